/** Trigger config of type `schedule`: a cron expression fired once per slot across the cluster. */
import { z } from "zod";
import { Cron } from "croner";
import { duration } from "../duration.ts";

const MAX_PAYLOAD_BYTES = 64 * 1024;

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const scheduleConfigSchema = z.strictObject({
  /** 5 fields (minute precision) or 6 with seconds first: "0 9 * * *", "*\/10 * * * * *". */
  cron: z.string().min(1).max(200).superRefine((pattern, ctx) => {
    const fields = pattern.trim().split(/\s+/).length;
    if (!pattern.startsWith("@") && fields !== 5 && fields !== 6) {
      ctx.addIssue({ code: "custom", message: `expected 5 or 6 fields, got ${fields}` });
      return;
    }
    try {
      new Cron(pattern, { paused: true, mode: "5-or-6-parts" });
    } catch (e) {
      ctx.addIssue({
        code: "custom",
        message: `not a valid cron expression: ${(e as Error).message}`,
      });
    }
  }),
  /** IANA time zone the expression is read in; DST as croner handles it. */
  timezone: z.string().max(64).refine(validTimezone, "not an IANA time zone such as Europe/Berlin")
    .default("UTC"),
  /** The event body (JSON). */
  payload: z.unknown().refine(
    (v) => v === undefined || JSON.stringify(v).length <= MAX_PAYLOAD_BYTES,
    `payload larger than ${MAX_PAYLOAD_BYTES} bytes as JSON`,
  ).default({}),
  /** Each slot missed (every node down, or a dead holder's lease not yet expired) still fires
   * once, late, when it is at most this old (at most 100 of them). Default: missed slots are
   * skipped. Set it to at least twice LEASE_MS to keep every slot when a node dies. */
  catch_up: duration(1000, 30 * 86_400_000).optional(),
});

export type ScheduleConfig = z.output<typeof scheduleConfigSchema>;
