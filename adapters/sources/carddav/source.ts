/**
 * CardDAV source (`type: "carddav"`): the shared DAV sync core (adapters/sources/dav) with
 * address books, addressbook-multiget and the vCard parser.
 */
import { addressBookMultiGet } from "tsdav";
import type { SourceFactory } from "../../../core/ports.ts";
import { type DavKind, DavSource } from "../dav/source.ts";
import { type CarddavConfig, carddavConfigSchema } from "./config.ts";
import { parseVCard } from "./vcard.ts";

export const carddavKind: DavKind = {
  type: "carddav",
  dataKey: "addressData",
  multiget: (fetchFn, url, hrefs) =>
    addressBookMultiGet({
      url,
      props: { "d:getetag": {}, "card:address-data": {} },
      objectUrls: hrefs,
      depth: "1",
      fetch: fetchFn,
    }),
  parse: parseVCard,
};

export const carddavSourceFactory: SourceFactory<CarddavConfig> = {
  type: "carddav",
  schema: carddavConfigSchema as unknown as SourceFactory<CarddavConfig>["schema"],
  parseConfig: (config) => carddavConfigSchema.parse(config),
  create: (config, ctx) => new DavSource(config, ctx, carddavKind, config.addressbook),
};
