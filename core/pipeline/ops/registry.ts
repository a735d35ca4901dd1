/**
 * The operation catalogue: every transform operation by name, the zod schema of an operation
 * (dispatching on `op` so errors name the exact field), and the compiler of an operation list.
 */
import type { z } from "zod";
import { dispatch, isRecord } from "../../routing/zod_dispatch.ts";
import { arrayOps } from "./arrays.ts";
import { CAST_OPS } from "./casts.ts";
import { CRYPTO_OPS } from "./crypto.ts";
import { DATE_OPS } from "./dates.ts";
import { ENCODING_OPS } from "./encoding.ts";
import { EXPRESSION_OPS } from "./expression.ts";
import { FIELD_OPS } from "./fields.ts";
import { FORMAT_OPS } from "./formats.ts";
import { HEADER_OPS } from "./headers.ts";
import { ID_OPS } from "./ids.ts";
import { KEY_OPS } from "./keys.ts";
import type { CompileContext, OpDef, OperationConfig, OpFn } from "./op.ts";
import { STRING_OPS } from "./strings.ts";
import { STRUCTURE_OPS } from "./structure.ts";

export const OPERATIONS: readonly OpDef[] = [
  ...FIELD_OPS,
  ...STRING_OPS,
  ...KEY_OPS,
  ...CAST_OPS,
  ...STRUCTURE_OPS,
  ...arrayOps(() => OperationSchema),
  ...DATE_OPS,
  ...ENCODING_OPS,
  ...CRYPTO_OPS,
  ...ID_OPS,
  ...FORMAT_OPS,
  ...HEADER_OPS,
  ...EXPRESSION_OPS,
];

const BY_NAME = new Map(OPERATIONS.map((o) => [o.name, o]));

export const OperationSchema: z.ZodType<OperationConfig> = dispatch<OperationConfig>((v) => {
  if (!isRecord(v) || typeof v.op !== "string") return 'an operation needs an "op" name';
  const def = BY_NAME.get(v.op);
  if (!def) return `unknown operation "${v.op}"; see docs/pipeline.md for the catalogue`;
  return def.schema;
});

function where(cfg: OperationConfig): string {
  const at = cfg.path ?? cfg.from ?? cfg.to;
  return typeof at === "string" ? ` at "${at}"` : "";
}

const context: CompileContext = { compileOperations };

/** Compiles parsed operations into one function; errors name the index, op and path. */
export function compileOperations(list: readonly OperationConfig[]): OpFn {
  const fns = list.map((cfg, i) => {
    try {
      return BY_NAME.get(cfg.op)!.compile(cfg as never, context);
    } catch (e) {
      throw new Error(`operations[${i}] (${cfg.op}): ${(e as Error).message}`);
    }
  });
  const fail = (i: number, e: unknown): never => {
    const cfg = list[i];
    throw new Error(`operations[${i}] ${cfg.op}${where(cfg)}: ${(e as Error)?.message ?? e}`);
  };
  const run = (
    w: Parameters<OpFn>[0],
    env: Parameters<OpFn>[1],
    start: number,
  ): void | Promise<void> => {
    for (let i = start; i < fns.length; i++) {
      let r: void | Promise<void> = undefined;
      try {
        r = fns[i](w, env);
      } catch (e) {
        fail(i, e);
      }
      // Stay synchronous until an operation actually needs to wait.
      if (r) return r.then((): void | Promise<void> => run(w, env, i + 1), (e) => fail(i, e));
    }
  };
  return (w, env) => run(w, env, 0);
}
