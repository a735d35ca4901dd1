/** Headers to fields and back: received headers into the body, body fields into headers. */
import { z } from "zod";
import { compileRef } from "../ref.ts";
import { renderValue } from "../template.ts";
import {
  defineOp,
  MutableString,
  op,
  type OpDef,
  OpError,
  RefString,
  TargetString,
  typeName,
} from "./op.ts";

export const HEADER_OPS: OpDef[] = [
  defineOp(
    "headers_to_fields",
    "Copies received headers (all, or the listed names) into a body object",
    op("headers_to_fields", {
      to: TargetString.default("headers"),
      names: z.array(z.string().min(1)).optional(),
    }),
    (cfg) => {
      const to = compileRef(cfg.to);
      const names = cfg.names?.map((n) => n.toLowerCase());
      return (w) => {
        const src = w.event.headers;
        const out: Record<string, string> = {};
        for (const name of names ?? Object.keys(src)) {
          if (src[name] !== undefined) out[name] = src[name];
        }
        to.set(w, out);
      };
    },
  ),
  defineOp(
    "fields_to_headers",
    'Sets outgoing headers from body fields: a {"header": "path"} map, or every key of an object',
    op("fields_to_headers", {
      map: z.record(z.string().min(1), RefString).optional(),
      from: MutableString.optional(),
      remove: z.boolean().default(false),
    }).refine(
      (c) => (c.map === undefined) !== (c.from === undefined),
      'fields_to_headers needs exactly one of "map" and "from"',
    ),
    (cfg) => {
      if (cfg.map) {
        const pairs = Object.entries(cfg.map).map(([h, p]) =>
          [h.toLowerCase(), compileRef(p)] as const
        );
        return (w) => {
          for (const [h, ref] of pairs) {
            const v = ref.get(w);
            if (v === undefined || v === null) continue;
            w.headers[h] = renderValue(v);
            if (cfg.remove) ref.delete(w);
          }
        };
      }
      const from = compileRef(cfg.from!);
      return (w) => {
        const obj = from.get(w);
        if (obj === undefined || obj === null) return;
        if (typeof obj !== "object" || Array.isArray(obj)) {
          throw new OpError(`expected an object of headers, got ${typeName(obj)}`);
        }
        for (const [k, v] of Object.entries(obj)) {
          if (v !== undefined && v !== null) w.headers[k.toLowerCase()] = renderValue(v);
        }
        if (cfg.remove) from.delete(w);
      };
    },
  ),
];
