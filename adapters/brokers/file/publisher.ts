/**
 * Publisher of type `file`: appends each batch to a JSON-lines file (records as the `log`
 * type writes them) with one write, then fsync unless `fsync: false`. Parent directories are
 * created on connect. Batches of one publisher are written one after another; other
 * processes appending to the same file may interleave with a batch larger than the OS's
 * atomic append size. A failed write is retriable (a partly written batch is written again:
 * at least once).
 *
 * A confined factory (destinations not owned by an admin) writes inside `<root>/<owner id>/`
 * only: the path is relative and cannot climb out with `..` (config.ts), and when the file is
 * opened its folder must really be inside that one (no symlinked folder leads out) and the file
 * itself must not be a symlink; otherwise the delivery fails permanently.
 */
import { basename, dirname, resolve } from "node:path";
import type {
  Outgoing,
  Publisher,
  PublisherContext,
  PublisherFactory,
  PublishResult,
} from "../../../core/ports.ts";
import { errorMessage, failAll, PublishError } from "../errors.ts";
import { encodeRecords } from "../log/record.ts";
import { type FileConfig, fileConfigSchema, isInside, parseFileConfig } from "./config.ts";

class FilePublisher implements Publisher {
  #file: Deno.FsFile | null = null;
  #chain: Promise<unknown> = Promise.resolve();

  /** `folder`: the confined folder the relative path lives in (tenants), else none. */
  constructor(readonly config: FileConfig, readonly folder?: string) {}

  async #open(): Promise<Deno.FsFile> {
    if (this.#file) return this.#file;
    let path = this.config.path;
    if (this.folder) path = await this.#confined(this.folder);
    else await Deno.mkdir(dirname(path), { recursive: true });
    this.#file = await Deno.open(path, { append: true, create: true });
    return this.#file;
  }

  /** The file's real path inside `folder`, or a permanent PublishError saying how it escapes. */
  async #confined(folder: string): Promise<string> {
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
    const base = await Deno.realPath(folder);
    const full = resolve(base, this.config.path);
    await Deno.mkdir(dirname(full), { recursive: true, mode: 0o700 });
    const parent = await Deno.realPath(dirname(full));
    if (!isInside(base, parent)) {
      throw new PublishError(
        `file ${this.config.path}: its folder leads out of ${base} (through a symlink)`,
        true,
      );
    }
    const file = resolve(parent, basename(full));
    try {
      if ((await Deno.lstat(file)).isSymlink) {
        throw new PublishError(`file ${this.config.path}: is a symlink; not followed`, true);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return file;
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
        if (e instanceof PublishError) return failAll(batch.length, e);
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

/**
 * A `file` factory; with `root`, each destination writes only inside `<root>/<owner id>/`
 * (the owner from the publisher context).
 */
export function createFilePublisherFactory(opts: { root?: string } = {}): PublisherFactory<
  FileConfig
> {
  const root = opts.root;
  return {
    type: "file",
    schema: fileConfigSchema,
    parseConfig: (input) => parseFileConfig(input, root !== undefined),
    create: (config, ctx: PublisherContext) => {
      if (root === undefined) return new FilePublisher(config);
      const owner = ctx.owner ?? "unowned";
      if (!/^[\w-]{1,64}$/.test(owner)) throw new Error(`file: invalid owner id ${owner}`);
      return new FilePublisher(config, resolve(root, owner));
    },
  };
}

/** The unrestricted `file` factory (any path the process may write; admin use). */
export const filePublisherFactory: PublisherFactory<FileConfig> = createFilePublisherFactory();
