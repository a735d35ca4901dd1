/** JSON-lines logger over any line writer: stderr on the full node, console on an edge. */
import type { Logger, LogLevel } from "../ports.ts";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createJsonLogger(
  level: LogLevel,
  writeLine: (line: string) => void,
  base: Record<string, unknown> = {},
): Logger {
  const min = ORDER[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    writeLine(
      JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...base, ...fields }),
    );
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (f) => createJsonLogger(level, writeLine, { ...base, ...f }),
  };
}
