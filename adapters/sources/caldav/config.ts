/** Trigger config of type `caldav`: calendars polled for created, updated, deleted objects. */
import { z } from "zod";
import { checkDavAuth, davCommonFields } from "../dav/config.ts";

export const caldavConfigSchema = z.strictObject({
  ...davCommonFields,
  /** One calendar by display name or href; default: every calendar of the account. */
  calendar: z.string().min(1).max(2000).optional(),
}).superRefine(checkDavAuth);

export type CaldavConfig = z.output<typeof caldavConfigSchema>;
