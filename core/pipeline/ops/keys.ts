/** Key-case operations: rename every key of an object to camelCase or snake_case. */
import { z } from "zod";
import { camelCase, snakeCase } from "./case.ts";
import { type OpDef, valueOp } from "./op.ts";

function convertKeys(v: unknown, fn: (k: string) => string, deep: boolean): unknown {
  if (Array.isArray(v)) return deep ? v.map((x) => convertKeys(x, fn, deep)) : v;
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [fn(k), deep ? convertKeys(x, fn, deep) : x]),
  );
}

const keysOp = (name: string, summary: string, fn: (k: string) => string): OpDef => {
  const def = valueOp(
    name,
    summary,
    { deep: z.boolean().default(true) },
    (cfg) => (v) => convertKeys(v, fn, cfg.deep),
  );
  return def;
};

export const KEY_OPS: OpDef[] = [
  keysOp("camel_case_keys", "Renames object keys to camelCase (deep by default)", camelCase),
  keysOp("snake_case_keys", "Renames object keys to snake_case (deep by default)", snakeCase),
];
