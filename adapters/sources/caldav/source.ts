/**
 * CalDAV source (`type: "caldav"`): the shared DAV sync core (adapters/sources/dav) with
 * calendar collections, calendar-multiget and the iCalendar parser.
 */
import { calendarMultiGet } from "tsdav";
import type { SourceFactory } from "../../../core/ports.ts";
import { type DavKind, DavSource } from "../dav/source.ts";
import { type CaldavConfig, caldavConfigSchema } from "./config.ts";
import { parseICalendar } from "./ical.ts";

export const caldavKind: DavKind = {
  type: "caldav",
  dataKey: "calendarData",
  multiget: (fetchFn, url, hrefs) =>
    calendarMultiGet({
      url,
      props: { "d:getetag": {}, "c:calendar-data": {} },
      objectUrls: hrefs,
      depth: "1",
      fetch: fetchFn,
    }),
  parse: parseICalendar,
};

export const caldavSourceFactory: SourceFactory<CaldavConfig> = {
  type: "caldav",
  schema: caldavConfigSchema as unknown as SourceFactory<CaldavConfig>["schema"],
  parseConfig: (config) => caldavConfigSchema.parse(config),
  create: (config, ctx) => new DavSource(config, ctx, caldavKind, config.calendar),
};
