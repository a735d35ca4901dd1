/** A PublisherContext for broker tests: real fetch, every host allowed, log lines kept. */
import type { Logger, PublisherContext } from "../../core/ports.ts";

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
  return { fetch, checkHost: () => Promise.resolve(), log: l };
}
