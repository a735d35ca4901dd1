/**
 * Builds the bytes a generic HMAC is computed over from `signature_input`, e.g.
 * `${timestamp}.${body}`. The body goes in as the raw bytes received, never decoded and
 * re-encoded, so a signature over any byte sequence (not only valid UTF-8) still matches.
 */
import { PLACEHOLDER } from "./signature_config.ts";
import type { HeaderGetter } from "./headers.ts";

type Part = { text: Uint8Array } | { name: string };

export interface InputValues {
  body: Uint8Array;
  url: string;
  header: HeaderGetter;
  /** Values read from the signature header (the timestamp), by placeholder name. */
  values: Record<string, string | undefined>;
}

const MAX_TEMPLATES = 256;
const templates = new Map<string, Part[]>();
const encoder = new TextEncoder();

/** The signed bytes, or null when a placeholder has no value in this request. */
export function buildSignatureInput(template: string, input: InputValues): Uint8Array | null {
  // the default template needs no copy at all
  if (template === "${body}") return input.body;
  const chunks: Uint8Array[] = [];
  for (const part of compile(template)) {
    if ("text" in part) {
      chunks.push(part.text);
      continue;
    }
    const value = resolve(part.name, input);
    if (value === null) return null;
    chunks.push(value);
  }
  return concatBytes(...chunks);
}

function resolve(name: string, input: InputValues): Uint8Array | null {
  if (name === "body") return input.body;
  if (name === "url") return encoder.encode(input.url);
  if (name.startsWith("header.")) {
    const value = input.header(name.slice(7));
    return value === null ? null : encoder.encode(value);
  }
  const value = input.values[name];
  return value === undefined ? null : encoder.encode(value);
}

function compile(template: string): Part[] {
  const hit = templates.get(template);
  if (hit !== undefined) return hit;
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ text: encoder.encode(template.slice(last, match.index)) });
    parts.push({ name: match[1] });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push({ text: encoder.encode(template.slice(last)) });
  if (templates.size >= MAX_TEMPLATES) templates.delete(templates.keys().next().value!);
  templates.set(template, parts);
  return parts;
}

/** One array holding `chunks` back to back. */
export function concatBytes(...chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
