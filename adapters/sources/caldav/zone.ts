/**
 * Local time in an IANA zone to UTC, for iCalendar times whose TZID has no VTIMEZONE in the
 * file (common: clients name "Europe/Berlin" and rely on the zone database). Uses Intl, so
 * the zone data is the runtime's own.
 */
const formats = new Map<string, Intl.DateTimeFormat | null>();

function format(tz: string): Intl.DateTimeFormat | null {
  if (!formats.has(tz)) {
    try {
      formats.set(
        tz,
        new Intl.DateTimeFormat("en-US", {
          timeZone: tz,
          hourCycle: "h23",
          year: "numeric",
          month: "2-digit",
          day: "2-digit",
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit",
        }),
      );
    } catch {
      formats.set(tz, null); // not a zone this runtime knows
    }
  }
  return formats.get(tz)!;
}

/** The zone's offset from UTC (ms) at the instant `utcMs`. */
function offsetAt(f: Intl.DateTimeFormat, utcMs: number): number {
  const p = Object.fromEntries(f.formatToParts(new Date(utcMs)).map((x) => [x.type, x.value]));
  const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return local - Math.floor(utcMs / 1000) * 1000;
}

/** "2026-07-10T10:00:00" in `tz` as an ISO UTC string, or null for an unknown zone. */
export function zonedToUtc(local: string, tz: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(local);
  const f = format(tz);
  if (!m || !f) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // Twice: the offset at the first estimate may differ across a DST change.
  let utc = guess - offsetAt(f, guess);
  utc = guess - offsetAt(f, utc);
  return new Date(utc).toISOString();
}
