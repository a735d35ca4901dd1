/**
 * Kafka message keys from a destination's `key` setting:
 * - a template: `{{body.order_id}}`, `{{headers.x-tenant}}:{{body.items[0].sku}}`, `{{id}}`,
 *   `{{event_id}}` (paths into the JSON body, the headers, the delivery and event ids);
 * - a JSON path into the body: `$.order.id`, `$.items[0].sku`;
 * - otherwise a constant.
 * A value that is missing (or a body that is not JSON) renders as ""; an all-empty key means
 * "no key" (null), so the partitioner spreads those messages.
 */
import type { Outgoing } from "../../../core/ports.ts";

type Part = string | { path: (string | number)[] };
export type KeyFn = (m: Outgoing) => string | null;

/** "a.b[0].c" -> ["a", "b", 0, "c"]; throws on malformed paths. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]|\.(?=[^.[\]])/gy;
  let last = 0;
  for (let m = re.exec(path); m && m[0] !== ""; m = re.exec(path)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3]);
    last = re.lastIndex;
  }
  if (last !== path.length || out.length === 0) throw new Error(`bad path "${path}"`);
  return out;
}

function dig(value: unknown, path: (string | number)[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function render(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
}

const dec = new TextDecoder();

/** Compiles a key setting into a function of the message; throws on a malformed setting. */
export function compileKey(setting: string): KeyFn {
  const s = setting.trim();
  let parts: Part[];
  if (s.startsWith("$")) {
    const rest = s.slice(1).replace(/^\./, "");
    parts = [{ path: ["body", ...(rest ? parsePath(rest) : [])] }];
  } else if (s.includes("{{")) {
    parts = [];
    const re = /\{\{\s*([^}]+?)\s*\}\}/g;
    let at = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      if (m.index > at) parts.push(s.slice(at, m.index));
      const path = parsePath(m[1]);
      if (!["body", "headers", "id", "event_id"].includes(String(path[0]))) {
        throw new Error(`unknown root "${path[0]}" in {{${m[1]}}}`);
      }
      parts.push({ path });
      at = re.lastIndex;
    }
    if (at < s.length) parts.push(s.slice(at));
    if (parts.some((p) => typeof p === "string" && p.includes("{{"))) {
      throw new Error(`unclosed {{ in "${s}"`);
    }
  } else {
    return () => setting;
  }
  const needsBody = parts.some((p) => typeof p !== "string" && p.path[0] === "body");
  return (m) => {
    let body: unknown = undefined;
    if (needsBody) {
      try {
        body = JSON.parse(dec.decode(m.body));
      } catch {
        body = undefined;
      }
    }
    const root = { body, headers: m.headers, id: m.id, event_id: m.eventId };
    const key = parts.map((p) => typeof p === "string" ? p : render(dig(root, p.path))).join("");
    return key === "" ? null : key;
  };
}
