/**
 * iCalendar and vCard parsing (ical.js) for the CalDAV/CardDAV sources: time zones, all-day
 * events, recurrence exceptions, and text no server would store but a parser must survive.
 */
import assert from "node:assert/strict";
import { parseICalendar } from "../../../adapters/sources/caldav/ical.ts";
import { parseVCard } from "../../../adapters/sources/carddav/vcard.ts";

const cal = (...lines: string[]) =>
  ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:t", ...lines, "END:VCALENDAR", ""].join("\r\n");

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:STANDARD",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "END:STANDARD",
  "BEGIN:DAYLIGHT",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "END:DAYLIGHT",
  "END:VTIMEZONE",
];

Deno.test("ical: a TZID time becomes UTC through the calendar's VTIMEZONE", () => {
  const p = parseICalendar(cal(
    ...BERLIN,
    "BEGIN:VEVENT",
    "UID:tz1",
    "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=Europe/Berlin:20260710T100000",
    "DTEND;TZID=Europe/Berlin:20260710T110000",
    "SUMMARY:Summer",
    "END:VEVENT",
  ));
  assert.equal(p.error, undefined);
  assert.equal(p.object!.start, "2026-07-10T08:00:00.000Z");
  assert.equal(p.object!.end, "2026-07-10T09:00:00.000Z");
  assert.equal(p.object!.timezone, "Europe/Berlin");
  assert.equal(p.object!.all_day, false);
});

Deno.test("ical: a TZID without VTIMEZONE uses the IANA zone; floating and all-day stay local", () => {
  const iana = parseICalendar(cal(
    "BEGIN:VEVENT",
    "UID:tz2",
    "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=America/New_York:20260115T090000",
    "END:VEVENT",
  ));
  assert.equal(iana.object!.start, "2026-01-15T14:00:00.000Z");
  const floating = parseICalendar(cal(
    "BEGIN:VEVENT",
    "UID:f",
    "DTSTAMP:20260101T000000Z",
    "DTSTART:20260115T090000",
    "END:VEVENT",
  ));
  assert.equal(floating.object!.start, "2026-01-15T09:00:00");
  assert.equal(floating.object!.timezone, null);
  const day = parseICalendar(cal(
    "BEGIN:VEVENT",
    "UID:d",
    "DTSTAMP:20260101T000000Z",
    "DTSTART;VALUE=DATE:20261224",
    "DTEND;VALUE=DATE:20261225",
    "END:VEVENT",
  ));
  assert.equal(day.object!.start, "2026-12-24");
  assert.equal(day.object!.all_day, true);
});

Deno.test("ical: overridden occurrences are exceptions of the main event; VTODO fields", () => {
  const p = parseICalendar(cal(
    "BEGIN:VEVENT",
    "UID:r",
    "DTSTAMP:20260101T000000Z",
    "DTSTART:20260105T100000Z",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "EXDATE:20260119T100000Z",
    "SUMMARY:Weekly",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:r",
    "DTSTAMP:20260101T000000Z",
    "RECURRENCE-ID:20260112T100000Z",
    "DTSTART:20260112T110000Z",
    "SUMMARY:Weekly (later)",
    "END:VEVENT",
  ));
  assert.equal(p.uid, "r");
  assert.equal(p.object!.summary, "Weekly");
  assert.deepEqual(p.object!.exdates, ["2026-01-19T10:00:00.000Z"]);
  const [ex] = p.object!.exceptions as Record<string, unknown>[];
  assert.equal(ex.recurrence_id, "2026-01-12T10:00:00.000Z");
  assert.equal(ex.start, "2026-01-12T11:00:00.000Z");
  const todo = parseICalendar(cal(
    "BEGIN:VTODO",
    "UID:t",
    "DTSTAMP:20260101T000000Z",
    "DUE:20260201T120000Z",
    "STATUS:NEEDS-ACTION",
    "SUMMARY:File taxes",
    "END:VTODO",
  ));
  assert.equal(todo.object!.type, "vtodo");
  assert.equal(todo.object!.due, "2026-02-01T12:00:00.000Z");
  assert.equal(todo.object!.status, "NEEDS-ACTION");
});

Deno.test("ical: broken text is a parse error, never a throw", () => {
  for (
    const [text, why] of [
      ["BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", /component began but did not end/],
      ["garbage", /invalid line/],
      [cal("BEGIN:VTIMEZONE", "TZID:X", "END:VTIMEZONE"), /no VEVENT, VTODO or VJOURNAL/],
      ["BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n", /expected VCALENDAR, found VCARD/],
    ] as const
  ) {
    const p = parseICalendar(text);
    assert.equal(p.object, null);
    assert.match(p.error!, why);
  }
});

Deno.test("vcard: vCard 4 values, several cards, broken text", () => {
  const v4 = parseVCard([
    "BEGIN:VCARD",
    "VERSION:4.0",
    "UID:urn:uuid:1",
    "FN:Ann",
    "EMAIL;TYPE=work:ann@example.org",
    "TEL;VALUE=uri;TYPE=cell:tel:+1-555-0100",
    "BDAY:19800102",
    "END:VCARD",
    "",
  ].join("\r\n"));
  assert.equal(v4.error, undefined);
  assert.equal(v4.uid, "urn:uuid:1");
  assert.deepEqual(v4.object!.phones, [{ value: "+1-555-0100", types: ["cell"] }]);
  assert.equal(v4.object!.birthday, "1980-01-02");
  assert.equal(v4.object!.name, null);
  const two = parseVCard(
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:One\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Two\r\nEND:VCARD\r\n",
  );
  assert.equal(two.object!.full_name, "One");
  const broken = parseVCard("BEGIN:VCARD\r\nFN:x\r\n");
  assert.equal(broken.object, null);
  assert.match(broken.error!, /cannot parse vCard/);
  assert.match(parseVCard(cal()).error!, /expected VCARD, found VCALENDAR/);
});
