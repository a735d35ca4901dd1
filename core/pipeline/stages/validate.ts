/**
 * validate: a JSON Schema, a boolean JSONata expression, or both. On failure the configured
 * `on_failure` applies: reject (refused, not retried), drop (discarded with the reason),
 * dead_letter (kept in the dead-letter queue for inspection and replay) or tag (the event goes
 * on, marked: a header, `$meta.validation_errors`, and optionally a body field).
 */
import { compileExpression } from "../expression.ts";
import { bindings } from "../ops/arrays.ts";
import { compileRef } from "../ref.ts";
import type { ValidateStage } from "../schema.ts";
import { compileJsonSchema } from "./json_schema.ts";
import { type CompiledStage, CONTINUE, type StageResult } from "./stage.ts";

export function compileValidate(cfg: ValidateStage, name: string, index: number): CompiledStage {
  const check = cfg.schema !== undefined ? compileJsonSchema(cfg.schema) : null;
  const expr = cfg.expression !== undefined ? compileExpression(cfg.expression) : null;
  const target = compileRef(cfg.target);
  const tagField = cfg.tag_field ? compileRef(cfg.tag_field) : null;
  const header = cfg.tag_header.toLowerCase();
  return {
    name,
    type: "validate",
    index,
    onError: cfg.on_error ?? "dead_letter",
    reshapes: tagField !== null,
    async run(w): Promise<StageResult> {
      const value = target.get(w);
      const errors = check ? check(value) : [];
      if (expr) {
        const ok = await expr.evaluate(value, bindings(w));
        if (ok !== true) errors.push(`expression ${expr.source} is ${JSON.stringify(ok ?? null)}`);
      }
      if (errors.length === 0) return CONTINUE;
      const reason = `validation failed: ${errors.join("; ")}`;
      switch (cfg.on_failure) {
        case "reject":
          return { kind: "reject", reason };
        case "drop":
          return { kind: "drop", reason };
        case "dead_letter":
          return { kind: "dead_letter", reason };
        case "tag": {
          w.headers[header] = name;
          const list = (w.meta.validation_errors as unknown[] | undefined) ?? [];
          w.meta.validation_errors = [...list, { stage: name, errors }];
          tagField?.set(w, errors);
          return { kind: "continue", note: `tagged: ${reason}` };
        }
      }
    },
  };
}
