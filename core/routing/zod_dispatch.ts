/**
 * A zod schema that picks a sub-schema by looking at the input, then re-reports the
 * sub-schema's issues with their paths. Plain unions report "Invalid input" at the union's
 * path; this names the exact bad field (`rules[1].when.all[0].regex`).
 */
import { z } from "zod";

export function dispatch<T>(
  pick: (value: unknown) => z.ZodType | string,
): z.ZodType<T> {
  return z.unknown().transform((value, ctx) => {
    const schema = pick(value);
    if (typeof schema === "string") {
      ctx.addIssue({ code: "custom", message: schema });
      return z.NEVER;
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      for (const issue of r.error.issues) {
        ctx.addIssue({ ...issue, code: "custom", path: issue.path } as never);
      }
      return z.NEVER;
    }
    return r.data;
  }) as unknown as z.ZodType<T>;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "a.b[0]"-style rendering of a zod issue path, for error messages. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out || "(root)";
}

/** One line per issue: `rules[0].when.regex: unsupported regular expression ...`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${issuePath(i.path)}: ${i.message}`).join("; ");
}
