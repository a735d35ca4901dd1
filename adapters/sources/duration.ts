/** Durations in trigger configs: "500ms", "30s", "5m", "1h30m", "2d". */
import { z } from "zod";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/.test(t)) return null;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(PART)) ms += Number(n) * UNIT_MS[unit];
  return Math.round(ms);
}

/** A zod duration between `minMs` and `maxMs`, parsed to milliseconds. */
export function duration(minMs: number, maxMs: number) {
  return z.string().max(40).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: "custom", message: `"${text}" is not a duration such as 30s, 5m, 1h` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: "custom",
        message: `must be from ${formatDuration(minMs)} to ${formatDuration(maxMs)} (got ${text})`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]]) {
    if (ms >= (size as number) && ms % (size as number) === 0) {
      return `${ms / (size as number)}${unit}`;
    }
  }
  return `${ms}ms`;
}
