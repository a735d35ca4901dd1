/** The `jsonata` operation: compute one field (or the whole body) with a JSONata expression. */
import { z } from "zod";
import { compileExpression } from "../expression.ts";
import { compileRef } from "../ref.ts";
import { bindings } from "./arrays.ts";
import { defineOp, op, type OpDef, TargetString } from "./op.ts";

export const EXPRESSION_OPS: OpDef[] = [
  defineOp(
    "jsonata",
    "Evaluates a JSONata expression over the body and writes the result ($event, $headers, $meta bound)",
    op("jsonata", { expression: z.string().min(1), to: TargetString.default("$") }),
    (cfg) => {
      const expr = compileExpression(cfg.expression);
      const to = compileRef(cfg.to);
      return async (w) => {
        const v = await expr.evaluate(w.body, bindings(w));
        to.set(w, v === undefined ? null : v);
      };
    },
  ),
];
