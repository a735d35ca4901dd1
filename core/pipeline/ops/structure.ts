/** flatten / unflatten: nested objects <-> one level of "a.b.c" keys. */
import { z } from "zod";
import { type OpDef, OpError, typeName, valueOp } from "./op.ts";

function flatten(v: unknown, sep: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rec = (node: unknown, prefix: string) => {
    const entries = Array.isArray(node)
      ? node.map((x, i) => [String(i), x] as const)
      : typeof node === "object" && node !== null
      ? Object.entries(node)
      : null;
    if (!entries || entries.length === 0) {
      if (prefix !== "") out[prefix] = node;
      return;
    }
    for (const [k, x] of entries) rec(x, prefix === "" ? k : prefix + sep + k);
  };
  if (typeof v !== "object" || v === null) {
    throw new OpError(`expected an object, got ${typeName(v)}`);
  }
  rec(v, "");
  return out;
}

/** Objects whose keys are exactly 0..n-1 become arrays, so flatten round-trips. */
function arrayify(node: unknown): unknown {
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Record<string, unknown>;
  for (const k of Object.keys(obj)) obj[k] = arrayify(obj[k]);
  const keys = Object.keys(obj);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => obj[k]);
  return obj;
}

function unflatten(v: unknown, sep: string): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new OpError(`expected an object, got ${typeName(v)}`);
  }
  const root: Record<string, unknown> = {};
  for (const [flatKey, x] of Object.entries(v)) {
    const parts = flatKey.split(sep);
    let node = root;
    parts.forEach((p, i) => {
      if (p === "__proto__" || p === "constructor" || p === "prototype") {
        throw new OpError(`refusing key "${flatKey}"`);
      }
      if (i === parts.length - 1) node[p] = x;
      else {
        if (typeof node[p] !== "object" || node[p] === null) node[p] = {};
        node = node[p] as Record<string, unknown>;
      }
    });
  }
  return arrayify(root);
}

export const STRUCTURE_OPS: OpDef[] = [
  valueOp(
    "flatten",
    'Flattens nested objects and arrays into one level of "a.b.0.c" keys',
    { separator: z.string().min(1).default(".") },
    (cfg) => (v) => flatten(v, cfg.separator),
  ),
  valueOp(
    "unflatten",
    'Expands "a.b.c" keys into nested objects (keys 0..n-1 become arrays)',
    { separator: z.string().min(1).default(".") },
    (cfg) => (v) => unflatten(v, cfg.separator),
  ),
];
