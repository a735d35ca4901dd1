/**
 * The node's fixed maintenance jobs run from Deno.cron (needs --unstable-cron, which the start
 * and compile tasks pass); where it is unavailable, a plain interval does the same. Whether this
 * node does the work is decided by the coordinator inside `fn`, so it runs once per cluster.
 */
import type { Logger } from "../../core/ports.ts";

type CronFn = (
  name: string,
  schedule: string,
  options: { signal?: AbortSignal },
  handler: () => Promise<void> | void,
) => Promise<void>;

export function everyMinute(
  name: string,
  fn: () => Promise<void>,
  signal: AbortSignal,
  log: Logger,
): "cron" | "interval" {
  const cron = (Deno as unknown as { cron?: CronFn }).cron;
  if (typeof cron === "function") {
    try {
      cron(name, "* * * * *", { signal }, fn).catch((e) =>
        log.warn("maintenance cron ended", { job: name, error: String(e) })
      );
      return "cron";
    } catch (e) {
      log.warn("Deno.cron unavailable; using an interval", { job: name, error: String(e) });
    }
  }
  const t = setInterval(fn, 60_000);
  signal.addEventListener("abort", () => clearInterval(t), { once: true });
  return "interval";
}
