/**
 * The config fields CalDAV and CardDAV triggers share; each type adds the name of its
 * collection selector (`calendar` / `addressbook`). The descriptions are what the OpenAPI
 * document shows for each field.
 */
import { z } from "zod";
import { duration } from "../duration.ts";
import { oauth2ConfigSchema } from "../oauth2.ts";

const MiB = 1024 * 1024;

export const davCommonFields = {
  url: z.url({ protocol: /^https?$/ }).describe(
    "The server (collections found through .well-known and the principal) or one collection",
  ),
  username: z.string().min(1).max(320).optional().describe("With password: HTTP Basic"),
  password: z.string().max(4096).optional().describe("With username: HTTP Basic (sealed at rest)"),
  token: z.string().min(1).max(8192).optional().describe("A bearer token (sealed at rest)"),
  oauth2: oauth2ConfigSchema.optional()
    .describe(
      "Bearer tokens from this OAuth2 client, fetched again when they expire or are refused",
    ),
  interval: duration(10_000, 86_400_000).prefault("5m").describe(
    "How often to look for changes",
  ),
  sync: z.enum(["auto", "etag"]).default("auto").describe(
    "auto: WebDAV sync (sync-collection) where offered, else ETags; etag: always compare every ETag",
  ),
  emit_existing: z.boolean().default(false)
    .describe("On the first poll, also emit every object already there (as created)"),
  max_bytes: z.number().int().min(1024).max(10 * MiB).default(MiB)
    .describe(
      "Largest object text put in an event; a larger one comes without raw and object, with parse_error",
    ),
  timeout_ms: z.number().int().min(1000).max(120_000).default(30_000)
    .describe("Bound on each request"),
};

type Auth = { username?: string; password?: string; token?: string; oauth2?: unknown };

/** One way to authenticate at most; a password needs a username. */
export function checkDavAuth(c: Auth, ctx: z.RefinementCtx): void {
  const ways = [c.password !== undefined, c.token !== undefined, c.oauth2 !== undefined];
  if (ways.filter(Boolean).length > 1) {
    ctx.addIssue({
      code: "custom",
      path: ["password"],
      message: "give at most one of password, token or oauth2",
    });
  }
  if (c.password !== undefined && c.username === undefined) {
    ctx.addIssue({ code: "custom", path: ["username"], message: "password needs a username" });
  }
}

export type DavCommon = z.output<z.ZodObject<typeof davCommonFields>>;
