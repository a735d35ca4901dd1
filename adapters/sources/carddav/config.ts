/** Trigger config of type `carddav`: address books polled for created, updated, deleted cards. */
import { z } from "zod";
import { checkDavAuth, davCommonFields } from "../dav/config.ts";

export const carddavConfigSchema = z.strictObject({
  ...davCommonFields,
  addressbook: z.string().min(1).max(2000).optional()
    .describe(
      "One address book by display name or href; default: every address book of the account",
    ),
}).superRefine(checkDavAuth);

export type CarddavConfig = z.output<typeof carddavConfigSchema>;
