/** Identifiers: a random UUID v4 (Web Crypto) or a CUID2, optionally prefixed. */
import { z } from "zod";
import { createId } from "@paralleldrive/cuid2";
import { compileRef } from "../ref.ts";
import { defineOp, op, type OpDef, TargetString } from "./op.ts";

export const ID_OPS: OpDef[] = [
  defineOp(
    "uuid",
    "Writes a random UUID (v4)",
    op("uuid", { to: TargetString, prefix: z.string().default("") }),
    (cfg) => {
      const to = compileRef(cfg.to);
      return (w) => to.set(w, cfg.prefix + crypto.randomUUID());
    },
  ),
  defineOp(
    "cuid",
    'Writes a CUID2 (e.g. with "prefix": "ord_")',
    op("cuid", { to: TargetString, prefix: z.string().default("") }),
    (cfg) => {
      const to = compileRef(cfg.to);
      return (w) => to.set(w, cfg.prefix + createId());
    },
  ),
];
