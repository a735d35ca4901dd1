/**
 * JSONata expressions, compiled once per route version. Evaluation is bounded: a time limit, a
 * stack limit, a sequence-length limit, and regular expressions run on the safe engine (no
 * catastrophic backtracking), so a route cannot stall the processor.
 */
import jsonata from "jsonata";
import { compileSafeRegex, type SafeRegex } from "../routing/safe_regex.ts";

export const EXPRESSION_TIMEOUT_MS = 1000;
const LIMITS = { timeout: EXPRESSION_TIMEOUT_MS, stack: 500, sequence: 100_000 };

export interface Expression {
  readonly source: string;
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
}

/** A RegExp look-alike over the safe engine, with just what JSONata calls (exec, lastIndex). */
class SafeRegExpEngine {
  lastIndex = 0;
  #re: SafeRegex;
  constructor(re: RegExp | string, flags?: string) {
    const source = typeof re === "string" ? re : re.source;
    const f = flags ?? (typeof re === "string" ? "" : re.flags);
    this.#re = compileSafeRegex(source, { ignoreCase: f.includes("i") });
  }
  exec(str: string): RegExpExecArray | null {
    const caps = this.#re.exec(str, this.lastIndex);
    if (!caps) return null;
    const out: string[] = [];
    for (let i = 0; i < caps.length; i += 2) {
      out.push(caps[i] >= 0 ? str.slice(caps[i], caps[i + 1]) : undefined as unknown as string);
    }
    const arr = out as unknown as RegExpExecArray;
    arr.index = caps[0];
    arr.input = str;
    this.lastIndex = caps[1];
    return arr;
  }
  test(str: string): boolean {
    return this.exec(str) !== null;
  }
}

/** Every regex literal in the AST, so unsupported patterns fail at compile time. */
function checkRegexes(node: unknown, seen = new Set<unknown>()): void {
  if (typeof node !== "object" || node === null || seen.has(node)) return;
  seen.add(node);
  const n = node as Record<string, unknown>;
  if (n.type === "regex" && n.value instanceof RegExp) {
    new SafeRegExpEngine(n.value);
  }
  for (const v of Object.values(n)) checkRegexes(v, seen);
}

export class ExpressionError extends Error {
  constructor(source: string, message: string) {
    super(`JSONata expression ${JSON.stringify(source)}: ${message}`);
    this.name = "ExpressionError";
  }
}

function describe(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) {
    const err = e as { message: string; position?: number; code?: string };
    return err.position !== undefined ? `${err.message} (at ${err.position})` : err.message;
  }
  return String(e);
}

export function compileExpression(source: string): Expression {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source, {
      ...LIMITS,
      RegexEngine: SafeRegExpEngine as unknown as RegExpConstructor,
    });
    checkRegexes(expr.ast());
  } catch (e) {
    throw new ExpressionError(source, describe(e));
  }
  return {
    source,
    async evaluate(input, bindings) {
      try {
        return await expr.evaluate(input, bindings);
      } catch (e) {
        throw new ExpressionError(source, describe(e));
      }
    },
  };
}
