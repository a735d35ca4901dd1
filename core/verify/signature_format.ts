/**
 * Reads a signature header by its `signature_format`, e.g. `sha256=${signature}` or
 * `t=${timestamp},v1=${signature}`. A format made only of `key=${name}` pairs joined by commas
 * is read as a comma list in any order, where a key may repeat (Stripe sends several v1 during
 * secret rotation); any other format must match the whole header.
 */
import { PLACEHOLDER } from "./signature_config.ts";

export interface ParsedHeader {
  /** Every candidate signature, still encoded as sent. */
  signatures: string[];
  /** The other placeholders' values (the timestamp), by placeholder name. */
  values: Record<string, string>;
}

type Parser = (header: string) => ParsedHeader | null;

// rotation and versioning need a few; a long list is an attempt to multiply our work
const MAX_SIGNATURES = 16;
const MAX_PARSERS = 256;
const parsers = new Map<string, Parser>();

/** The header's parts per `format`, or null when the header does not have that shape. */
export function parseSignatureHeader(format: string, header: string): ParsedHeader | null {
  let parser = parsers.get(format);
  if (parser === undefined) {
    parser = compile(format);
    if (parsers.size >= MAX_PARSERS) parsers.delete(parsers.keys().next().value!);
    parsers.set(format, parser);
  }
  return parser(header.trim());
}

function compile(format: string): Parser {
  const segments = format.split(",").map((s) => s.trim());
  const pairs = segments.map((s) => /^([^=${}]+)=\$\{([^}]+)\}$/.exec(s));
  if (segments.length > 1 && pairs.every((p) => p !== null)) {
    return listParser(pairs.map((p) => ({ key: p![1], name: p![2] })));
  }
  return wholeParser(format);
}

function listParser(fields: { key: string; name: string }[]): Parser {
  return (header) => {
    const signatures: string[] = [];
    const values: Record<string, string> = {};
    for (const item of header.split(",")) {
      const eq = item.indexOf("=");
      if (eq <= 0) continue; // unknown shapes are skipped, as Stripe's own parser does
      const key = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      for (const field of fields) {
        if (field.key !== key) continue;
        if (field.name === "signature") signatures.push(value);
        else values[field.name] ??= value;
      }
    }
    if (signatures.length === 0 || signatures.length > MAX_SIGNATURES) return null;
    for (const field of fields) {
      if (field.name !== "signature" && values[field.name] === undefined) return null;
    }
    return { signatures, values };
  };
}

function wholeParser(format: string): Parser {
  const names: string[] = [];
  let source = "^";
  let last = 0;
  for (const match of format.matchAll(PLACEHOLDER)) {
    source += escapeRegExp(format.slice(last, match.index));
    source += "(.+?)";
    names.push(match[1]);
    last = match.index + match[0].length;
  }
  source += escapeRegExp(format.slice(last)) + "$";
  const regex = new RegExp(source, "s");
  return (header) => {
    const match = regex.exec(header);
    if (match === null) return null;
    const parsed: ParsedHeader = { signatures: [], values: {} };
    names.forEach((name, i) => {
      if (name === "signature") parsed.signatures.push(match[i + 1]);
      else parsed.values[name] = match[i + 1];
    });
    return parsed;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
