/**
 * String templates: `"Order {{order.id}} from {{$event.source}}"`. Each `{{ ref }}` is a ref
 * (see ref.ts) rendered as text: strings as they are, numbers and booleans as JSON, objects and
 * arrays as JSON, null and missing as "". Parsed once at compile time.
 */
import { compileRef, type Ref, type Working } from "./ref.ts";

export interface TemplateOptions {
  /** Applied to each rendered value (e.g. encodeURIComponent for URLs). */
  encode?: (text: string) => string;
  /** Missing values are an error instead of "" (URLs must not silently lose an id). */
  strict?: boolean;
}

export type Template = (w: Working) => string;

const PLACEHOLDER = /\{\{\s*([^{}]+?)\s*\}\}/g;

export function renderValue(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function compileTemplate(text: string, opts: TemplateOptions = {}): Template {
  const parts: (string | Ref)[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, m.index), compileRef(m[1]));
    last = m.index! + m[0].length;
  }
  parts.push(text.slice(last));
  if (parts.length === 1) return () => text;
  const encode = opts.encode ?? ((s: string) => s);
  return (w) => {
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") {
        out += p;
        continue;
      }
      const v = p.get(w);
      if (opts.strict && (v === undefined || v === null)) {
        throw new Error(`template value {{${p.source}}} is missing`);
      }
      out += encode(renderValue(v));
    }
    return out;
  };
}

/** True when the text contains at least one placeholder. */
export function isTemplate(text: string): boolean {
  return /\{\{\s*[^{}]+?\s*\}\}/.test(text);
}
