/**
 * The config fields CalDAV and CardDAV triggers share; each type adds the name of its
 * collection selector (`calendar` / `addressbook`).
 */
import { z } from "zod";
import { durationSchema } from "../../../core/sources/duration.ts";
import { oauth2ConfigSchema } from "../oauth2.ts";

const MiB = 1024 * 1024;

export const davCommonFields = {
  /** The server (discovery through .well-known and the principal) or one collection. */
  url: z.url({ protocol: /^https?$/ }),
  username: z.string().min(1).max(320).optional(),
  /** With `username`: HTTP Basic. */
  password: z.string().max(4096).optional(),
  /** A bearer token. */
  token: z.string().min(1).max(8192).optional(),
  /** Bearer tokens from this OAuth2 client, refreshed when they expire or are refused. */
  oauth2: oauth2ConfigSchema.optional(),
  /** How often to look for changes. */
  interval: durationSchema(10_000, 86_400_000).default("5m"),
  /** "auto": WebDAV sync (sync-collection) where the collection offers it, else ETags;
   * "etag": always compare every ETag (for a server whose sync reports are wrong). */
  sync: z.enum(["auto", "etag"]).default("auto"),
  /** On the first poll: also emit every object already there (as `created`). */
  emit_existing: z.boolean().default(false),
  /** Largest object text put in an event; a larger one is sent without `raw` and `object`,
   * with `parse_error`. */
  max_bytes: z.number().int().min(1024).max(10 * MiB).default(MiB),
  /** Bound on each request. */
  timeout_ms: z.number().int().min(1000).max(120_000).default(30_000),
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
