/** Shared OpenAPI pieces so each resource file stays short. */
import { z } from "@hono/zod-openapi";

export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
}).openapi("Error");

const err = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

export const errors = {
  400: err("Invalid request: the message names the field and the problem"),
  401: err("Missing or invalid token"),
  403: err("Forbidden, or the password must be changed first"),
  404: err("Not found (also for another tenant's id)"),
  409: err("Conflict with the current state (e.g. the trigger runs on another node)"),
  502: err("The upstream the request depends on failed (e.g. the trigger's poll)"),
};

export function json<T extends z.ZodType>(schema: T, description = "OK") {
  return { description, content: { "application/json": { schema } } };
}

export function body<T extends z.ZodType>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } };
}

export const idParam = z.object({ id: z.string().min(1).max(64) });
export const security = [{ bearerAuth: [] }];
export const Any = z.record(z.string(), z.unknown());

/**
 * A response documented with its real shape (the OpenAPI document shows `schema`), while the
 * handler's TypeScript type stays a plain JSON object: the present* functions build answers
 * from store types, and tests check real answers against these schemas.
 */
export function doc(schema: z.ZodType, description = "OK") {
  return {
    description,
    content: { "application/json": { schema: schema as unknown as typeof Any } },
  };
}
