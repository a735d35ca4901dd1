/** Parsers for the non-JSON bodies events arrive with: form, XML and CSV. */
import { XMLBuilder, XMLParser } from "fast-xml-parser";

const UNSAFE = new Set(["__proto__", "constructor", "prototype"]);

/** `a=1&b=2&b=3` -> {a: "1", b: ["2", "3"]}. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (UNSAFE.has(k)) continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

// Attributes as "@_name", text next to attributes as "#text"; values stay strings so nothing
// is lost ("007" stays "007"); cast with to_number where a number is wanted.
const XML_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  textNodeName: "#text",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
};

const xmlParser = new XMLParser(XML_OPTIONS);

/** Throws on malformed XML; DOCTYPE entities keep fast-xml-parser's expansion limits. */
export function parseXml(text: string): unknown {
  const result = xmlParser.parse(text, true);
  if (result === true || typeof result !== "object") throw new Error("invalid XML");
  return result;
}

export function buildXml(value: unknown, root?: string, declaration = false): string {
  const builder = new XMLBuilder({ ...XML_OPTIONS, format: false, suppressEmptyNode: true });
  const doc = root ? { [root]: value } : value;
  const xml = builder.build(doc) as string;
  return declaration ? `<?xml version="1.0" encoding="UTF-8"?>${xml}` : xml;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF line ends. */
export function parseCsvRows(text: string, delimiter = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** With a header row: one object per line; without: arrays. */
export function parseCsv(text: string, delimiter = ",", header = true): unknown[] {
  const rows = parseCsvRows(text, delimiter);
  if (!header) return rows;
  const [head, ...rest] = rows;
  if (!head) return [];
  return rest.map((r) =>
    Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""]).filter(([h]) => !UNSAFE.has(h)))
  );
}
