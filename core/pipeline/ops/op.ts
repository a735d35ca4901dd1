/**
 * The shape every transform operation has: a name, a zod schema for its JSON config, and a
 * compile step that turns the config into a closure run per event. Compilation happens once per
 * route version, so parsing paths, templates, regexes and keys never happens per event.
 */
import { z } from "zod";
import { compileRef, type Ref, type Working } from "../ref.ts";
import { cloneJson } from "../clone.ts";

export interface OpEnv {
  now(): number;
}

/** Runs against one event; returns a promise only when it must (hashes, JSONata). */
export type OpFn = (w: Working, env: OpEnv) => void | Promise<void>;

export interface OperationConfig {
  op: string;
  [field: string]: unknown;
}

export interface CompileContext {
  /** Compiles nested operations (used by `map`). */
  compileOperations(ops: readonly OperationConfig[]): OpFn;
}

export interface OpDef {
  name: string;
  /** One line for the docs and error messages. */
  summary: string;
  schema: z.ZodType;
  compile(cfg: never, ctx: CompileContext): OpFn;
}

export function defineOp<S extends z.ZodType>(
  name: string,
  summary: string,
  schema: S,
  compile: (cfg: z.infer<S>, ctx: CompileContext) => OpFn,
): OpDef {
  return { name, summary, schema, compile: compile as OpDef["compile"] };
}

/** A ref string, checked at save time. */
export const RefString = z.string().superRefine((s, ctx) => {
  try {
    compileRef(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

const isEventRef = (s: string) => s === "$event" || s.startsWith("$event.");

/** A ref that can be changed in place: not `$event`; wildcards allowed. */
export const MutableString = RefString.superRefine((s, ctx) => {
  if (isEventRef(s)) ctx.addIssue({ code: "custom", message: `"${s}": $event is read-only` });
});

/** A ref that can be written: not `$event`, no wildcard. */
export const TargetString = RefString.superRefine((s, ctx) => {
  if (isEventRef(s)) {
    ctx.addIssue({ code: "custom", message: `"${s}": $event is read-only` });
  } else if (/\[\*\]|(^|\.)\*(\.|$)/.test(s)) {
    ctx.addIssue({ code: "custom", message: `"${s}": cannot write to a wildcard path` });
  }
});

export function op<N extends string, S extends z.ZodRawShape>(name: N, shape: S) {
  return z.strictObject({ op: z.literal(name), ...shape });
}

/** Typed failure inside an operation; the runner prefixes the operation and its index. */
export class OpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OpError";
  }
}

export function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

export function clone<T>(v: T): T {
  return typeof v === "object" && v !== null ? cloneJson(v) : v;
}

/**
 * A value operation: reads `path` (wildcards allowed), applies `fn`, writes the result back, or
 * to `to` when given. Missing values are left alone; `null` is passed to `fn` only when
 * `nulls` is set, otherwise kept.
 */
export function valueOp<S extends z.ZodRawShape>(
  name: string,
  summary: string,
  shape: S,
  make: (
    cfg: z.infer<z.ZodObject<S>> & { path: string; to?: string },
  ) => (value: unknown, w: Working, env: OpEnv) => unknown,
): OpDef {
  const schema = op(name, { path: RefString, to: TargetString.optional(), ...shape })
    .superRefine((raw, ctx) => {
      const cfg = raw as { path: string; to?: string };
      if (!cfg.to && isEventRef(cfg.path)) {
        ctx.addIssue({
          code: "custom",
          path: ["to"],
          message: `"${cfg.path}" is read-only: give "to" to write the result elsewhere`,
        });
      }
    });
  return defineOp(name, summary, schema, (cfg) => {
    const fn = make(cfg as never);
    const c = cfg as unknown as { path: string; to?: string };
    const from = compileRef(c.path);
    const to: Ref | null = c.to ? compileRef(c.to) : null;
    return (w, env) => {
      if (to) {
        const v = from.get(w);
        if (v === undefined) return;
        if (from.wildcard) {
          to.set(w, (v as unknown[]).map((x) => x === null ? null : fn(x, w, env)));
        } else to.set(w, v === null ? null : fn(v, w, env));
      } else from.update(w, (v) => v === null ? null : fn(v, w, env));
    };
  });
}

/** Like valueOp for async functions (hashes, HMAC); no wildcards. */
export function asyncValueOp<S extends z.ZodRawShape>(
  name: string,
  summary: string,
  shape: S,
  make: (
    cfg: z.infer<z.ZodObject<S>> & { path: string; to?: string },
  ) => (value: unknown) => Promise<unknown>,
): OpDef {
  const schema = op(name, { path: RefString, to: TargetString.optional(), ...shape })
    .superRefine((raw, ctx) => {
      const cfg = raw as { path: string; to?: string };
      if (/\*/.test(cfg.path)) {
        ctx.addIssue({ code: "custom", path: ["path"], message: `${name} takes no wildcard` });
      } else if (!cfg.to && isEventRef(cfg.path)) {
        ctx.addIssue({ code: "custom", path: ["to"], message: `"${cfg.path}" is read-only` });
      }
    });
  return defineOp(name, summary, schema, (cfg) => {
    const fn = make(cfg as never);
    const c = cfg as unknown as { path: string; to?: string };
    const from = compileRef(c.path);
    const to = c.to ? compileRef(c.to) : from;
    return async (w) => {
      const v = from.get(w);
      if (v === undefined || v === null) return;
      to.set(w, await fn(v));
    };
  });
}

export function expectString(v: unknown): string {
  if (typeof v !== "string") throw new OpError(`expected a string, got ${typeName(v)}`);
  return v;
}

/** Text of a value for encoders and hashes: strings as-is, anything else as JSON. */
export function textOf(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}
