/** JSON-lines logger on stderr, so stdout stays free for the log destination's output. */
import type { Logger, LogLevel } from "../../core/ports.ts";
import { createJsonLogger } from "../../core/log/json_logger.ts";

const enc = new TextEncoder();

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  return createJsonLogger(level, (line) => Deno.stderr.writeSync(enc.encode(line + "\n")), base);
}
