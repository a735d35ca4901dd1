/**
 * Durations in trigger configs: "500ms", "30s", "5m", "2h", "1d". One schema for every
 * source (polling interval, IMAP poll fallback, CalDAV/CardDAV interval) so they read alike.
 * The config keeps the string (what the user wrote, and what OpenAPI can describe); sources
 * turn it into milliseconds with `durationMs`.
 */
import { z } from "zod";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

/** Milliseconds of `text`, or null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/** Milliseconds of a duration that its schema already accepted. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}

function show(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A zod schema for a duration string between `minMs` and `maxMs`. */
export function durationSchema(minMs: number, maxMs: number) {
  return z.string().superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration like "30s", "5m" or "1h", got ${JSON.stringify(text)}`,
      });
    } else if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: "custom",
        message: `${text} is outside ${show(minMs)}..${show(maxMs)}`,
      });
    }
  });
}
