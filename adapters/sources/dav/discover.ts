/**
 * Which collections a CalDAV/CardDAV trigger watches: `url` itself when it is a calendar /
 * address book, else every one the account has (tsdav's discovery: .well-known, the current
 * user principal, its home set), narrowed to the one whose display name or href is
 * `select`.
 */
import { createAccount, type DAVAccount, fetchAddressBooks, fetchCalendars, propfind } from "tsdav";

export type DavType = "caldav" | "carddav";

export interface Collection {
  url: string;
  name: string | null;
  /** The collection answers sync-collection REPORTs (RFC 6578). */
  sync: boolean;
}

const RESOURCE: Record<DavType, string> = { caldav: "calendar", carddav: "addressbook" };

export function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "object") {
    const o = v as { _cdata?: unknown; _text?: unknown };
    return o._cdata !== undefined
      ? String(o._cdata)
      : o._text !== undefined
      ? String(o._text)
      : null;
  }
  return String(v);
}

function reportsOf(set: unknown): string[] {
  const list = (set as { supportedReport?: unknown })?.supportedReport;
  const items = Array.isArray(list) ? list : list ? [list] : [];
  return items.flatMap((r) => Object.keys((r as { report?: object })?.report ?? {}));
}

/** The collection at `url` itself, or null when it is not one of `type`. */
async function selfCollection(type: DavType, url: string, fetchFn: typeof fetch) {
  const [r] = await propfind({
    url,
    props: { "d:resourcetype": {}, "d:displayname": {}, "d:supported-report-set": {} },
    depth: "0",
    fetch: fetchFn,
  });
  if (r?.status === 401 || r?.status === 403) {
    throw new Error(`${type}: ${url} answered ${r.status}: check the credentials`);
  }
  // Gone (a deleted collection) is an error, not a reason to watch the whole account.
  if (r?.status === 404) throw new Error(`${type}: ${url} answered 404 Not Found`);
  if (!r?.ok || !Object.keys(r.props?.resourcetype ?? {}).includes(RESOURCE[type])) return null;
  return {
    url: new URL(r.href ?? url, url).href,
    name: text(r.props?.displayname),
    sync: reportsOf(r.props?.supportedReportSet).includes("syncCollection"),
  };
}

export class DavDiscovery {
  #account: DAVAccount | null = null;
  constructor(readonly type: DavType, readonly url: string, readonly select?: string) {}

  async collections(fetchFn: typeof fetch): Promise<Collection[]> {
    const url = this.url.endsWith("/") ? this.url : `${this.url}/`;
    let found: Collection[];
    const self = this.#account ? null : await selfCollection(this.type, url, fetchFn);
    if (self) found = [self];
    else {
      this.#account ??= await createAccount({
        account: { serverUrl: url, accountType: this.type },
        fetch: fetchFn,
      });
      const list = this.type === "caldav"
        ? await fetchCalendars({ account: this.#account, fetch: fetchFn })
        : await fetchAddressBooks({ account: this.#account, fetch: fetchFn });
      found = list.map((c) => ({
        url: c.url,
        name: text(c.displayName),
        sync: (c.reports ?? []).includes("syncCollection"),
      }));
    }
    if (this.select === undefined) return found;
    const want = this.select;
    const matches = found.filter((c) => {
      if (c.name === want) return true;
      try {
        const u = new URL(want, url).href;
        return u === c.url || `${u}/` === c.url;
      } catch {
        return false;
      }
    });
    if (!matches.length) {
      const names = found.map((c) => c.name ?? c.url).join(", ") || "none";
      throw new Error(
        `${this.type}: no ${RESOURCE[this.type]} named ${JSON.stringify(want)} (found: ${names})`,
      );
    }
    return matches;
  }

  /** Forget the discovered account (after a failure: the server may have moved things). */
  reset(): void {
    this.#account = null;
  }
}
