/** Type casts: to_string, to_number, to_integer, to_boolean, parse_json, stringify_json. */
import { z } from "zod";
import { expectString, type OpDef, OpError, textOf, typeName, valueOp } from "./op.ts";

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v.trim());
    if (Number.isFinite(n)) return n;
  }
  throw new OpError(`cannot convert ${JSON.stringify(v)} to a number`);
}

const TRUE = new Set(["true", "1", "yes", "y", "on"]);
const FALSE = new Set(["false", "0", "no", "n", "off", ""]);

function toBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
  }
  throw new OpError(`cannot convert ${JSON.stringify(v)} to a boolean`);
}

export const CAST_OPS: OpDef[] = [
  valueOp("to_string", "Converts a value to a string (objects become JSON)", {}, () => textOf),
  valueOp("to_number", "Converts a string or boolean to a number", {}, () => toNumber),
  valueOp(
    "to_integer",
    "Converts to a whole number, truncating or rounding",
    { rounding: z.enum(["truncate", "round", "floor", "ceil"]).default("truncate") },
    (cfg) => (v) => Math[cfg.rounding === "truncate" ? "trunc" : cfg.rounding](toNumber(v)),
  ),
  valueOp(
    "to_boolean",
    'Converts "true/false", "yes/no", "on/off", "1/0" and numbers to a boolean',
    {},
    () => toBoolean,
  ),
  valueOp("parse_json", "Parses a JSON string into a value", {}, () => (v) => {
    try {
      return JSON.parse(expectString(v));
    } catch (e) {
      if (e instanceof OpError) throw e;
      throw new OpError(`invalid JSON: ${(e as Error).message}`);
    }
  }),
  valueOp(
    "stringify_json",
    "Serialises a value to a JSON string",
    { indent: z.number().int().min(0).max(8).optional() },
    (cfg) => (v) => {
      if (typeof v === "bigint") throw new OpError(`cannot serialise ${typeName(v)}`);
      return JSON.stringify(v, null, cfg.indent);
    },
  ),
];
