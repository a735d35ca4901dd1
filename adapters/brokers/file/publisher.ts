/**
 * Publisher of type `file`: appends each batch to a JSON-lines file (records as the `log`
 * type writes them) with one write, then fsync unless `fsync: false`. Parent directories are
 * created on connect. Batches of one publisher are written one after another; other
 * processes appending to the same file may interleave with a batch larger than the OS's
 * atomic append size. A failed write is retriable (a partly written batch is written again:
 * at least once).
 */
import { dirname } from "node:path";
import type { Outgoing, Publisher, PublisherFactory, PublishResult } from "../../../core/ports.ts";
import { errorMessage, failAll } from "../errors.ts";
import { encodeRecords } from "../log/record.ts";
import { type FileConfig, fileConfigSchema, parseFileConfig } from "./config.ts";

class FilePublisher implements Publisher {
  #file: Deno.FsFile | null = null;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(readonly config: FileConfig) {}

  async #open(): Promise<Deno.FsFile> {
    if (this.#file) return this.#file;
    await Deno.mkdir(dirname(this.config.path), { recursive: true });
    this.#file = await Deno.open(this.config.path, { append: true, create: true });
    return this.#file;
  }

  #drop() {
    try {
      this.#file?.close();
    } catch {
      // already closed
    }
    this.#file = null;
  }

  async connect(_signal: AbortSignal): Promise<void> {
    await this.#open();
  }

  publish(batch: readonly Outgoing[], signal: AbortSignal): Promise<PublishResult[]> {
    const run = async (): Promise<PublishResult[]> => {
      if (signal.aborted) return failAll(batch.length, new Error("file: aborted"));
      if (batch.length === 0) return [];
      try {
        const file = await this.#open();
        const bytes = encodeRecords(batch, new Date());
        let off = 0;
        while (off < bytes.length) off += await file.write(bytes.subarray(off));
        if (this.config.fsync) await file.sync();
        return batch.map(() => ({ ok: true }));
      } catch (e) {
        this.#drop(); // reopen on the next batch (the file may have been moved or rotated)
        return failAll(batch.length, new Error(`file ${this.config.path}: ${errorMessage(e)}`));
      }
    };
    const p = this.#chain.then(run);
    this.#chain = p.catch(() => {});
    return p;
  }

  async close(): Promise<void> {
    await this.#chain;
    this.#drop();
  }
}

/** A `file` factory; with `root`, destinations may only write inside that directory. */
export function createFilePublisherFactory(opts: { root?: string } = {}): PublisherFactory<
  FileConfig
> {
  return {
    type: "file",
    schema: fileConfigSchema,
    parseConfig: (input) => parseFileConfig(input, opts.root),
    create: (config) => new FilePublisher(config),
  };
}

/** The unrestricted `file` factory (any path the process may write; admin use). */
export const filePublisherFactory: PublisherFactory<FileConfig> = createFilePublisherFactory();
