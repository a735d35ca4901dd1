/** Destination config of type `log`: messages written to stdout as JSON lines. */
import { z } from "zod";
import { parseConfigWith } from "../errors.ts";

export const logConfigSchema = z.strictObject({
  /** Indent each record for people reading a terminal (then it is no longer one line each). */
  pretty: z.boolean().default(false),
});

export type LogConfig = z.output<typeof logConfigSchema>;

export function parseLogConfig(input: unknown): LogConfig {
  return parseConfigWith("log", logConfigSchema, input);
}
