/**
 * A vCard (RFC 6350, and 3.0 as most servers still store) as JSON, parsed with ical.js: uid,
 * names, emails, phones, organization, title, addresses, birthday, note, urls, categories.
 */
import ICAL from "ical.js";
import type { Parsed } from "../dav/source.ts";

type Component = InstanceType<typeof ICAL.Component>;
type Property = InstanceType<typeof ICAL.Property>;

function types(p: Property): string[] {
  const t = p.getParameter("type");
  const list = Array.isArray(t) ? t : t === undefined ? [] : String(t).split(",");
  return list.map((x) => String(x).toLowerCase());
}

function parts(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => (Array.isArray(x) ? x.join(",") : String(x ?? "")));
  return v === null || v === undefined ? [] : [String(v)];
}

/** Reads one field; a value ical.js cannot decode is recorded in `errors` and left empty, so
 * one bad property does not hide the rest of the card. */
function reader(errors: string[]) {
  return <T>(name: string, read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (e) {
      errors.push(`${name.toUpperCase()}: ${(e as Error).message}`);
      return fallback;
    }
  };
}

function cardJson(c: Component, errors: string[]): Record<string, unknown> {
  const safe = reader(errors);
  const str = (name: string): string | null =>
    safe(name, () => {
      const v = c.getFirstPropertyValue(name);
      return v === null || v === undefined ? null : String(v);
    }, null);
  const n = safe("n", () => parts(c.getFirstPropertyValue("n")), [] as string[]);
  const org = safe("org", () => parts(c.getFirstPropertyValue("org")), [] as string[]);
  const valued = (name: string) =>
    safe(name, () =>
      c.getAllProperties(name).map((p) => ({
        value: String(p.getFirstValue() ?? ""),
        types: types(p),
      })), [] as { value: string; types: string[] }[]);
  return {
    uid: str("uid"),
    version: str("version"),
    kind: str("kind"),
    full_name: str("fn"),
    name: n.length
      ? {
        family: n[0] ?? "",
        given: n[1] ?? "",
        additional: n[2] ?? "",
        prefix: n[3] ?? "",
        suffix: n[4] ?? "",
      }
      : null,
    nickname: str("nickname"),
    emails: valued("email").map((e) => ({ ...e, value: e.value.replace(/^mailto:/i, "") })),
    phones: valued("tel").map((t) => ({ ...t, value: t.value.replace(/^tel:/i, "") })),
    organization: org[0] ?? null,
    organization_units: org.slice(1),
    title: str("title"),
    role: str("role"),
    addresses: safe("adr", () =>
      c.getAllProperties("adr").map((p) => {
        const a = parts(p.getFirstValue());
        return {
          types: types(p),
          po_box: a[0] ?? "",
          extended: a[1] ?? "",
          street: a[2] ?? "",
          locality: a[3] ?? "",
          region: a[4] ?? "",
          postal_code: a[5] ?? "",
          country: a[6] ?? "",
        };
      }), []),
    birthday: str("bday"),
    note: str("note"),
    urls: safe(
      "url",
      () => c.getAllProperties("url").map((p) => String(p.getFirstValue() ?? "")),
      [],
    ),
    categories: safe(
      "categories",
      () => c.getAllProperties("categories").flatMap((p) => p.getValues().map(String)),
      [],
    ),
  };
}

export function parseVCard(text: string): Parsed {
  let root: Component;
  try {
    const jcard = ICAL.parse(text) as unknown[];
    // Several cards in one resource parse to a list; a resource should hold one.
    root = new ICAL.Component((Array.isArray(jcard[0]) ? jcard[0] : jcard) as unknown[]);
  } catch (e) {
    return { object: null, uid: null, error: `cannot parse vCard: ${(e as Error).message}` };
  }
  if (root.name !== "vcard") {
    return { object: null, uid: null, error: `expected VCARD, found ${root.name.toUpperCase()}` };
  }
  const errors: string[] = [];
  const object = cardJson(root, errors);
  const uid = (object.uid as string | null) ?? null;
  return errors.length
    ? { object, uid, error: `cannot read vCard: ${errors.join("; ")}` }
    : { object, uid };
}
