/**
 * A calendar object resource (iCalendar, RFC 5545) as JSON, parsed with ical.js: the main
 * component (VEVENT, VTODO, VJOURNAL; the one without RECURRENCE-ID) with uid, summary,
 * start, end, location, rrule, organizer, attendees..., and its overridden occurrences in
 * `exceptions`. Times with a TZID become UTC through the calendar's own VTIMEZONE, else
 * through the IANA zone of that name when there is one; floating times stay local.
 */
import ICAL from "ical.js";
import type { Parsed } from "../dav/source.ts";
import { zonedToUtc } from "./zone.ts";

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;
type Timezone = InstanceType<typeof ICAL.Timezone>;

const KINDS = ["vevent", "vtodo", "vjournal"];

function person(p: InstanceType<typeof ICAL.Property>) {
  const value = String(p.getFirstValue() ?? "");
  const out: Record<string, unknown> = {
    email: value.replace(/^mailto:/i, ""),
    name: p.getParameter("cn") ?? null,
  };
  for (const k of ["role", "partstat", "rsvp", "cutype"]) {
    const v = p.getParameter(k);
    if (v !== undefined) out[k] = String(v).toLowerCase();
  }
  return out;
}

function timeText(t: Time, zones: Map<string, Timezone>): { at: string; tz: string | null } {
  if (t.isDate) return { at: t.toString(), tz: null };
  const tzid = (t as unknown as { timezone?: string }).timezone ?? t.zone?.tzid ?? null;
  if (t.zone?.tzid === "UTC" || tzid === "UTC" || t.toString().endsWith("Z")) {
    return { at: t.toJSDate().toISOString(), tz: "UTC" };
  }
  if (tzid && tzid !== "floating") {
    const own = zones.get(tzid);
    if (own) {
      const copy = t.clone();
      copy.zone = own;
      return { at: copy.toJSDate().toISOString(), tz: tzid };
    }
    const utc = zonedToUtc(t.toString(), tzid);
    return { at: utc ?? t.toString(), tz: tzid };
  }
  return { at: t.toString(), tz: null };
}

/** Reads one field; a value ical.js cannot decode is recorded in `errors` and left out, so
 * one bad property does not hide the rest of the event. */
function reader(errors: string[], where: string) {
  return <T>(name: string, read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (e) {
      errors.push(`${where} ${name.toUpperCase()}: ${(e as Error).message}`);
      return fallback;
    }
  };
}

function componentJson(
  c: Component,
  zones: Map<string, Timezone>,
  errors: string[],
): Record<string, unknown> {
  const safe = reader(errors, c.name.toUpperCase());
  const get = (name: string) => safe(name, () => c.getFirstPropertyValue(name), null);
  const str = (name: string) => {
    const v = get(name);
    return v === null || v === undefined ? null : String(v);
  };
  const out: Record<string, unknown> = {
    type: c.name,
    uid: str("uid"),
    summary: str("summary"),
    description: str("description"),
    location: str("location"),
    status: str("status"),
    sequence: get("sequence") ?? null,
  };
  let timezone: string | null = null;
  for (const name of ["dtstart", "dtend", "due", "recurrence-id", "completed"]) {
    const v = get(name);
    if (v && typeof v === "object" && "isDate" in v) {
      const { at, tz } = timeText(v as Time, zones);
      out[name === "dtstart" ? "start" : name === "dtend" ? "end" : name.replace("-", "_")] = at;
      if (name === "dtstart") {
        timezone = tz;
        out.all_day = (v as Time).isDate;
      }
    }
  }
  if (out.start !== undefined) out.timezone = timezone;
  const duration = get("duration");
  if (duration) out.duration = String(duration);
  const rrule = get("rrule");
  out.rrule = rrule ? String(rrule) : null;
  const exdates = safe(
    "exdate",
    () =>
      c.getAllProperties("exdate").flatMap((p) =>
        p.getValues().map((v) => timeText(v as Time, zones).at)
      ),
    [] as string[],
  );
  if (exdates.length) out.exdates = exdates;
  const organizer = c.getFirstProperty("organizer");
  out.organizer = organizer ? safe("organizer", () => person(organizer), null) : null;
  out.attendees = safe("attendee", () => c.getAllProperties("attendee").map(person), []);
  const categories = safe(
    "categories",
    () => c.getAllProperties("categories").flatMap((p) => p.getValues().map(String)),
    [] as string[],
  );
  if (categories.length) out.categories = categories;
  for (const name of ["url", "class", "priority", "transp"]) {
    const v = get(name);
    if (v !== null && v !== undefined) out[name] = v;
  }
  return out;
}

export function parseICalendar(text: string): Parsed {
  let root: Component;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch (e) {
    return { object: null, uid: null, error: `cannot parse iCalendar: ${(e as Error).message}` };
  }
  if (root.name !== "vcalendar") {
    return {
      object: null,
      uid: null,
      error: `expected VCALENDAR, found ${root.name.toUpperCase()}`,
    };
  }
  const errors: string[] = [];
  try {
    const zones = new Map<string, Timezone>();
    for (const vtz of root.getAllSubcomponents("vtimezone")) {
      const tz = new ICAL.Timezone(vtz);
      if (tz.tzid) zones.set(tz.tzid, tz);
    }
    const items = root.getAllSubcomponents().filter((c) => KINDS.includes(c.name));
    if (!items.length) {
      return { object: null, uid: null, error: "the calendar has no VEVENT, VTODO or VJOURNAL" };
    }
    const main = items.find((c) => !c.hasProperty("recurrence-id")) ?? items[0];
    const object = componentJson(main, zones, errors);
    const exceptions = items.filter((c) => c !== main).map((c) => componentJson(c, zones, errors));
    if (exceptions.length) object.exceptions = exceptions;
    const uid = (object.uid as string | null) ?? null;
    return errors.length
      ? { object, uid, error: `cannot read iCalendar: ${errors.join("; ")}` }
      : { object, uid };
  } catch (e) {
    // A value ical.js refuses (a DTSTART that is no date, say) inside a well-formed file.
    return { object: null, uid: null, error: `cannot read iCalendar: ${(e as Error).message}` };
  }
}
