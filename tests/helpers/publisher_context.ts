/** A PublisherContext for broker tests: an Outbound that allows every host, log lines kept. */
import type { Logger, PublisherContext } from "../../core/ports.ts";
import { openOutbound } from "../../runtimes/deno/outbound.ts";

/** Each log call appends `<level> <msg> <fields as JSON>` to `lines`, so tests can assert on it. */
export function testContext(lines: string[] = []): PublisherContext {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const l: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: () => l,
  };
  return { ...openOutbound(), log: l };
}
