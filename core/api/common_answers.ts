/**
 * Answers every operation can give besides its own, added to the OpenAPI document in one place:
 * 400 where the operation takes parameters or a body (the validation hook names the field), 413
 * where it takes a body (bounded admin bodies, core/api/body_limit.ts) and 401 where it needs a
 * token. A client (or a fuzzer checking the document against real answers) then finds each of
 * them documented, with the one error shape.
 */
interface Operation {
  parameters?: unknown[];
  requestBody?: unknown;
  security?: unknown[];
  responses?: Record<string, unknown>;
}
interface Document {
  paths?: object;
}

const METHODS = new Set(["get", "put", "post", "delete", "patch"]);
const error = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

export function documentCommonAnswers<D extends Document>(doc: D): D {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const item of Object.values(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method) || !op.responses) continue;
      const add = (status: string, description: string) => {
        op.responses![status] ??= error(description);
      };
      if ((op.parameters?.length ?? 0) > 0 || op.requestBody) {
        add("400", "Invalid request: the message names the field and the problem");
      }
      if (op.requestBody) add("413", "The body is over the limit (64 KiB unless stated)");
      if ((op.security?.length ?? 0) > 0) add("401", "Missing or invalid token");
    }
  }
  return doc;
}

/**
 * The methods the document lists for a path (`{id}` matches one segment), upper case: a
 * request for a known path with another method is answered 405 with these in `Allow`.
 */
export function allowedMethods(doc: Document, path: string): string[] {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  for (const [template, item] of Object.entries(paths)) {
    const re = new RegExp(
      "^" + template.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))
        .join("[^/]+") +
        "$",
    );
    if (re.test(path)) {
      return Object.keys(item).filter((m) => METHODS.has(m)).map((m) => m.toUpperCase());
    }
  }
  return [];
}
