/** String operations: upper, lower, trim, camel/snake case, split, join, replace, truncate. */
import { z } from "zod";
import { compileSafeRegex } from "../../routing/safe_regex.ts";
import { renderValue } from "../template.ts";
import { camelCase, snakeCase } from "./case.ts";
import { expectString, type OpDef, OpError, typeName, valueOp } from "./op.ts";

const stringOp = (name: string, summary: string, fn: (s: string) => string): OpDef =>
  valueOp(name, summary, {}, () => (v) => fn(expectString(v)));

export const STRING_OPS: OpDef[] = [
  stringOp("upper", "Upper-cases a string", (s) => s.toUpperCase()),
  stringOp("lower", "Lower-cases a string", (s) => s.toLowerCase()),
  stringOp("trim", "Removes leading and trailing whitespace", (s) => s.trim()),
  stringOp("camel_case", "Converts a string to camelCase", camelCase),
  stringOp("snake_case", "Converts a string to snake_case", snakeCase),
  valueOp(
    "split",
    "Splits a string into an array by a separator",
    { separator: z.string(), trim: z.boolean().optional() },
    (cfg) => (v) => {
      const parts = expectString(v).split(cfg.separator);
      return cfg.trim ? parts.map((p) => p.trim()).filter((p) => p !== "") : parts;
    },
  ),
  valueOp(
    "join",
    "Joins an array into a string with a separator",
    { separator: z.string().default(",") },
    (cfg) => (v) => {
      if (!Array.isArray(v)) throw new OpError(`expected an array, got ${typeName(v)}`);
      return v.map(renderValue).join(cfg.separator);
    },
  ),
  valueOp(
    "replace",
    "Replaces every occurrence of a string, or of a (safe) regular expression",
    {
      search: z.string().min(1).optional(),
      pattern: z.string().optional(),
      replacement: z.string(),
      ignore_case: z.boolean().optional(),
    },
    (cfg) => {
      if ((cfg.search === undefined) === (cfg.pattern === undefined)) {
        throw new OpError('replace needs exactly one of "search" and "pattern"');
      }
      if (cfg.search !== undefined) {
        const search = cfg.search;
        return (v) => expectString(v).replaceAll(search, cfg.replacement);
      }
      const re = compileSafeRegex(cfg.pattern!, { ignoreCase: cfg.ignore_case });
      return (v) => re.replaceAll(expectString(v), cfg.replacement);
    },
  ),
  valueOp(
    "truncate",
    "Cuts a string to at most `length` characters, ending with `suffix` when cut",
    { length: z.number().int().min(0), suffix: z.string().default("") },
    (cfg) => (v) => {
      const s = expectString(v);
      if (s.length <= cfg.length) return s;
      return s.slice(0, Math.max(0, cfg.length - cfg.suffix.length)) + cfg.suffix;
    },
  ),
];
