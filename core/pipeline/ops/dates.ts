/** Date operations: date_parse, date_format, date_now. */
import { z } from "zod";
import { compileRef } from "../ref.ts";
import { checkTimeZone, compileDateParser, formatDate } from "./date_time.ts";
import { defineOp, op, type OpDef, OpError, TargetString, valueOp } from "./op.ts";

const TimeZone = z.string().superRefine((tz, ctx) => {
  try {
    checkTimeZone(tz);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

const wrap = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    throw new OpError((e as Error).message);
  }
};

export const DATE_OPS: OpDef[] = [
  valueOp(
    "date_parse",
    'Parses a date ("auto", "iso", "rfc2822", "unix", "unix_ms" or a pattern) into ISO 8601 or epoch',
    {
      format: z.string().default("auto"),
      timezone: TimeZone.default("UTC"),
      output: z.enum(["iso", "unix", "unix_ms"]).default("iso"),
    },
    (cfg) => {
      const parse = compileDateParser(cfg.format, cfg.timezone);
      return (v) => wrap(() => formatDate(parse(v), cfg.output));
    },
  ),
  valueOp(
    "date_format",
    "Formats a date (ISO string, RFC 2822 or epoch number) with a format and time zone",
    { format: z.string().min(1), timezone: TimeZone.default("UTC") },
    (cfg) => {
      const parse = compileDateParser("auto");
      return (v) => wrap(() => formatDate(parse(v), cfg.format, cfg.timezone));
    },
  ),
  defineOp(
    "date_now",
    "Writes the current time (the processor's clock)",
    op("date_now", {
      to: TargetString,
      format: z.string().default("iso"),
      timezone: TimeZone.default("UTC"),
    }),
    (cfg) => {
      const to = compileRef(cfg.to);
      return (w, env) => to.set(w, formatDate(env.now(), cfg.format, cfg.timezone));
    },
  ),
];
