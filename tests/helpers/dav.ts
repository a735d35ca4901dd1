/**
 * The test Radicale (tests/peers/servers/radicale.sh) through tsdav, the client the CalDAV
 * and CardDAV sources use: a fresh calendar or address book per test (tests share one
 * user), and PUT / DELETE of objects in it.
 */
import { createObject, davRequest, deleteObject, makeCalendar, updateObject } from "tsdav";
import { mustPeer } from "./peers.ts";
import { type SourceHarness, sourceHarness } from "./source_harness.ts";

export function davSettings() {
  return {
    url: mustPeer("DAV_URL"),
    username: mustPeer("DAV_USER"),
    password: mustPeer("DAV_PASSWORD"),
  };
}

/** A CalDAV/CardDAV trigger config for `url` as the test user; `extra` overrides or adds. */
export function davConfig(url: string, extra: Record<string, unknown> = {}) {
  const s = davSettings();
  return { url, username: s.username, password: s.password, ...extra };
}

function authHeaders(): Record<string, string> {
  const s = davSettings();
  return { authorization: `Basic ${btoa(`${s.username}:${s.password}`)}` };
}

export interface TestCollection {
  url: string;
  name: string;
  /** PUT a new object; answers its URL and ETag. */
  put(name: string, text: string): Promise<{ url: string; etag: string | null }>;
  update(name: string, text: string): Promise<{ etag: string | null }>;
  remove(name: string): Promise<void>;
  drop(): Promise<void>;
}

export async function freshCollection(kind: "calendar" | "addressbook"): Promise<TestCollection> {
  const s = davSettings();
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const name = `${kind === "calendar" ? "Cal" : "Book"} ${id}`;
  const url = new URL(`${s.username}/${kind}-${id}/`, s.url).href;
  const headers = authHeaders();
  const made = kind === "calendar"
    ? await makeCalendar({ url, props: { "d:displayname": name }, headers })
    // An extended MKCOL (RFC 5689) with the addressbook resource type.
    : await davRequest({
      url,
      init: {
        method: "MKCOL",
        headers,
        namespace: "d",
        body: {
          mkcol: {
            _attributes: { "xmlns:d": "DAV:", "xmlns:card": "urn:ietf:params:xml:ns:carddav" },
            set: {
              prop: { resourcetype: { collection: {}, "card:addressbook": {} }, displayname: name },
            },
          },
        },
      },
    });
  if (!made[0]?.ok) {
    throw new Error(`cannot create ${kind} ${url}: ${made[0]?.status} ${made[0]?.raw}`);
  }
  const type = kind === "calendar" ? "text/calendar; charset=utf-8" : "text/vcard; charset=utf-8";
  const check = async (what: string, res: Response) => {
    if (!res.ok) throw new Error(`${what} answered ${res.status}: ${await res.text()}`);
    await res.body?.cancel();
    return res.headers.get("etag");
  };
  return {
    url,
    name,
    async put(file, text) {
      const res = await createObject({
        url: url + file,
        data: text,
        headers: { ...headers, "content-type": type },
      });
      return { url: url + file, etag: await check(`PUT ${file}`, res) };
    },
    async update(file, text) {
      const res = await updateObject({
        url: url + file,
        data: text,
        headers: { ...headers, "content-type": type },
      });
      return { etag: await check(`PUT ${file}`, res) };
    },
    async remove(file) {
      await check(`DELETE ${file}`, await deleteObject({ url: url + file, headers }));
    },
    async drop() {
      await deleteObject({ url, headers }).then((r) => r.body?.cancel()).catch(() => {});
    },
  };
}

/**
 * Runs `fn` with a fresh source harness and `count` fresh collections of `kind`, and drops
 * them all afterwards, also when `fn` fails: the collections live on the shared Radicale.
 */
export async function withCollections(
  kind: "calendar" | "addressbook",
  count: number,
  fn: (h: SourceHarness, collections: TestCollection[]) => Promise<void>,
): Promise<void> {
  const h = await sourceHarness();
  const made: TestCollection[] = [];
  try {
    while (made.length < count) made.push(await freshCollection(kind));
    await fn(h, made);
  } finally {
    for (const c of made) await c.drop();
    await h.close();
  }
}

/** `withCollections` with one collection. */
export const withCollection = (
  kind: "calendar" | "addressbook",
  fn: (h: SourceHarness, collection: TestCollection) => Promise<void>,
) => withCollections(kind, 1, (h, [c]) => fn(h, c));

export function vevent(uid: string, summary: string, extra: string[] = []): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//event-router tests//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20261201T090000Z",
    "DTSTART:20261224T180000Z",
    "DTEND:20261224T200000Z",
    `SUMMARY:${summary}`,
    ...extra,
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

export function vcard(uid: string, fullName: string, extra: string[] = []): string {
  return [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:${uid}`,
    `FN:${fullName}`,
    ...(extra.some((l) => l.startsWith("N:")) ? [] : ["N:Example;Bob;;;"]),
    ...extra,
    "END:VCARD",
    "",
  ].join("\r\n");
}
