/** transform: a JSONata expression whose result becomes the body, or named operations. */
import { compileExpression } from "../expression.ts";
import { bindings } from "../ops/arrays.ts";
import type { OperationConfig } from "../ops/op.ts";
import { compileOperations } from "../ops/registry.ts";
import type { TransformStage } from "../schema.ts";
import { type CompiledStage, CONTINUE } from "./stage.ts";

export function compileTransform(
  cfg: TransformStage,
  name: string,
  index: number,
): CompiledStage {
  const base = {
    name,
    type: "transform" as const,
    index,
    onError: cfg.on_error ?? "dead_letter",
    reshapes: true,
  };
  if (cfg.expression !== undefined) {
    const expr = compileExpression(cfg.expression);
    return {
      ...base,
      async run(w) {
        const out = await expr.evaluate(w.body, bindings(w));
        w.body = out === undefined ? null : out;
        return CONTINUE;
      },
    };
  }
  const ops = compileOperations(cfg.operations as OperationConfig[]);
  return {
    ...base,
    run(w, ctx) {
      const r = ops(w, ctx.env);
      return r ? r.then(() => CONTINUE) : CONTINUE;
    },
  };
}
