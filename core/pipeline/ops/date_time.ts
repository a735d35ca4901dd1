/**
 * Date parsing and formatting without a date library: ISO 8601, RFC 2822, Unix seconds and
 * milliseconds, and patterns built from the tokens YYYY YY MMM MM M DD D HH H mm m ss s SSS Z
 * ZZ and [literal text]. Time zones are "UTC", fixed offsets ("+02:00") or IANA names
 * ("Europe/Paris", through Intl, which every runtime here has).
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const TOKEN = /\[([^\]]*)\]|YYYY|YY|MMM|MM|M|DD|D|HH|H|mm|m|ss|s|SSS|ZZ|Z/g;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws for a zone Intl does not know, so configs fail at compile time. */
export function checkTimeZone(tz: string): void {
  offsetMinutes(0, tz);
}

/** Minutes east of UTC for the instant `ms` in zone `tz`. */
export function offsetMinutes(ms: number, tz: string): number {
  if (tz === "UTC" || tz === "Z") return 0;
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (fixed) return (fixed[1] === "-" ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new Error(`unknown time zone "${tz}"`);
    }
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) {
    if (part.type !== "literal") p[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");

function offsetText(min: number, colon: boolean): string {
  const sign = min < 0 ? "-" : "+";
  return `${sign}${pad(Math.trunc(Math.abs(min) / 60))}${colon ? ":" : ""}${
    pad(Math.abs(min) % 60)
  }`;
}

export type DateFormat = "iso" | "unix" | "unix_ms" | "rfc2822" | string;

/** Formats epoch milliseconds. "unix" and "unix_ms" give numbers, everything else strings. */
export function formatDate(ms: number, format: DateFormat, tz = "UTC"): string | number {
  if (format === "unix") return Math.floor(ms / 1000);
  if (format === "unix_ms") return ms;
  const off = offsetMinutes(ms, tz);
  const d = new Date(ms + off * 60_000); // read with getUTC* as wall-clock time in tz
  if (format === "iso") {
    if (off === 0) return new Date(ms).toISOString();
    return d.toISOString().slice(0, 23) + offsetText(off, true);
  }
  if (format === "rfc2822") {
    return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${
      MONTHS[d.getUTCMonth()]
    } ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${
      pad(d.getUTCSeconds())
    } ${offsetText(off, false)}`;
  }
  return format.replace(TOKEN, (tok, literal?: string) => {
    if (literal !== undefined) return literal;
    switch (tok) {
      case "YYYY":
        return String(d.getUTCFullYear());
      case "YY":
        return pad(d.getUTCFullYear() % 100);
      case "MMM":
        return MONTHS[d.getUTCMonth()];
      case "MM":
        return pad(d.getUTCMonth() + 1);
      case "M":
        return String(d.getUTCMonth() + 1);
      case "DD":
        return pad(d.getUTCDate());
      case "D":
        return String(d.getUTCDate());
      case "HH":
        return pad(d.getUTCHours());
      case "H":
        return String(d.getUTCHours());
      case "mm":
        return pad(d.getUTCMinutes());
      case "m":
        return String(d.getUTCMinutes());
      case "ss":
        return pad(d.getUTCSeconds());
      case "s":
        return String(d.getUTCSeconds());
      case "SSS":
        return pad(d.getUTCMilliseconds(), 3);
      case "Z":
        return offsetText(off, true);
      default: // ZZ
        return offsetText(off, false);
    }
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const TOKEN_RE: Record<string, string> = {
  YYYY: "(\\d{4})",
  YY: "(\\d{2})",
  MMM: "([A-Za-z]{3})",
  MM: "(\\d{2})",
  M: "(\\d{1,2})",
  DD: "(\\d{2})",
  D: "(\\d{1,2})",
  HH: "(\\d{2})",
  H: "(\\d{1,2})",
  mm: "(\\d{2})",
  m: "(\\d{1,2})",
  ss: "(\\d{2})",
  s: "(\\d{1,2})",
  SSS: "(\\d{3})",
  Z: "(Z|[+-]\\d{2}:?\\d{2})",
  ZZ: "(Z|[+-]\\d{2}:?\\d{2})",
};

export type DateParser = (v: unknown) => number;

/**
 * Compiles a parser to epoch ms. "auto" takes numbers (below 1e11 as Unix seconds, else ms),
 * numeric strings the same way, and ISO 8601 / RFC 2822 strings.
 */
export function compileDateParser(format: DateFormat, tz = "UTC"): DateParser {
  const fail = (v: unknown): never => {
    throw new Error(`cannot parse ${JSON.stringify(v)} as a date (format "${format}")`);
  };
  const num = (v: unknown): number | undefined =>
    typeof v === "number"
      ? v
      : typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())
      ? Number(v)
      : undefined;
  if (format === "unix") return (v) => (num(v) ?? fail(v)) * 1000;
  if (format === "unix_ms") return (v) => num(v) ?? fail(v);
  if (format === "auto" || format === "iso" || format === "rfc2822") {
    return (v) => {
      const n = format === "auto" ? num(v) : undefined;
      if (n !== undefined) return Math.abs(n) < 1e11 ? n * 1000 : n;
      if (typeof v !== "string") return fail(v);
      const ms = Date.parse(v);
      return Number.isNaN(ms) ? fail(v) : ms;
    };
  }
  const fields: string[] = [];
  let src = "^";
  let last = 0;
  for (const m of format.matchAll(TOKEN)) {
    src += escape(format.slice(last, m.index));
    if (m[1] !== undefined) src += escape(m[1]);
    else {
      src += TOKEN_RE[m[0]];
      fields.push(m[0]);
    }
    last = m.index! + m[0].length;
  }
  const re = new RegExp(src + escape(format.slice(last)) + "$");
  return (v) => {
    const m = typeof v === "string" ? re.exec(v.trim()) : null;
    if (!m) return fail(v);
    const f = { Y: 1970, M: 0, D: 1, h: 0, m: 0, s: 0, ms: 0 };
    let zone: string | undefined;
    fields.forEach((tok, i) => {
      const text = m[i + 1];
      const n = Number(text);
      if (tok === "YYYY") f.Y = n;
      else if (tok === "YY") f.Y = 2000 + n;
      else if (tok === "MMM") {
        const idx = MONTHS.findIndex((x) => x.toLowerCase() === text.toLowerCase());
        if (idx < 0) fail(v);
        f.M = idx;
      } else if (tok === "MM" || tok === "M") f.M = n - 1;
      else if (tok === "DD" || tok === "D") f.D = n;
      else if (tok === "HH" || tok === "H") f.h = n;
      else if (tok === "mm" || tok === "m") f.m = n;
      else if (tok === "ss" || tok === "s") f.s = n;
      else if (tok === "SSS") f.ms = n;
      else zone = text;
    });
    const wall = Date.UTC(f.Y, f.M, f.D, f.h, f.m, f.s, f.ms);
    if (Number.isNaN(wall)) return fail(v);
    const z = zone ?? tz;
    // Two passes find the zone's offset at that wall-clock time (correct outside DST gaps).
    let ms = wall - offsetMinutes(wall, z) * 60_000;
    ms = wall - offsetMinutes(ms, z) * 60_000;
    return ms;
  };
}
