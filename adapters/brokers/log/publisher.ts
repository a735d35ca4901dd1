/**
 * Publisher of type `log`: writes each message to stdout as one JSON line (see record.ts).
 * A batch is written with one call, so lines of concurrent batches do not interleave.
 * Meant for development and debugging; stdout failures are retriable.
 */
import type { Outgoing, Publisher, PublisherFactory, PublishResult } from "../../../core/ports.ts";
import { errorMessage, failAll } from "../errors.ts";
import { type LogConfig, logConfigSchema, parseLogConfig } from "./config.ts";
import { encodeRecords } from "./record.ts";

/** Where the lines go; stdout unless a test passes its own. */
export type WriteAll = (bytes: Uint8Array) => Promise<void>;

export const writeStdout: WriteAll = async (bytes) => {
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
};

export class LogPublisher implements Publisher {
  #chain: Promise<unknown> = Promise.resolve();

  constructor(readonly config: LogConfig, readonly write: WriteAll = writeStdout) {}

  connect(_signal: AbortSignal): Promise<void> {
    return Promise.resolve();
  }

  publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    const run = async (): Promise<PublishResult[]> => {
      if (signal.aborted) return failAll(batch.length, new Error("log: aborted"));
      try {
        await this.write(encodeRecords(batch, new Date(), this.config.pretty));
        return batch.map(() => ({ ok: true }));
      } catch (e) {
        return failAll(batch.length, new Error(`log: ${errorMessage(e)}`));
      }
    };
    const p = this.#chain.then(run);
    this.#chain = p.catch(() => {});
    return p;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export const logPublisherFactory: PublisherFactory<LogConfig> = {
  type: "log",
  schema: logConfigSchema,
  parseConfig: parseLogConfig,
  create: (config) => new LogPublisher(config),
};
