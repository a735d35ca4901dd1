/** Trigger config of type `caldav`: calendars polled for created, updated, deleted objects. */
import { z } from "zod";
import { checkDavAuth, davCommonFields } from "../dav/config.ts";

export const caldavConfigSchema = z.strictObject({
  ...davCommonFields,
  calendar: z.string().min(1).max(2000).optional()
    .describe("One calendar by display name or href; default: every calendar of the account"),
}).superRefine(checkDavAuth);

export type CaldavConfig = z.output<typeof caldavConfigSchema>;
