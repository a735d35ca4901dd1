/** Destination config of type `file`: messages appended to a JSON-lines file on the node. */
import { isAbsolute, relative, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, parseConfigWith } from "../errors.ts";

export const fileConfigSchema = z.strictObject({
  /** The file to append to; relative paths resolve against the node's working directory. */
  path: z.string().min(1).max(4096).refine((p) => !p.includes("\0"), "path cannot hold NUL"),
  /**
   * Flush each batch to disk (fsync) before reporting it delivered. Default true: a message
   * marked delivered must survive a crash or power loss; turn it off for throughput when the
   * file is only a debugging aid.
   */
  fsync: z.boolean().default(true),
});

export type FileConfig = z.output<typeof fileConfigSchema>;

/**
 * Parses the config. With `confined`, the path must be relative and stay inside the folder it
 * is resolved against (a tenant's own, see publisher.ts): `..` may not climb out of it, and an
 * absolute path is refused. The path comes back normalised (`a/./b/../c` is `a/c`).
 */
export function parseFileConfig(input: unknown, confined = false): FileConfig {
  const config = parseConfigWith("file", fileConfigSchema, input);
  if (!confined) return config;
  const base = "/confined";
  const rel = relative(base, resolve(base, config.path));
  if (isAbsolute(config.path) || rel === "" || rel === ".." || rel.startsWith("../")) {
    throw new ConfigError(
      `file config: path: must be a file inside your folder (relative, without ..), got ${config.path}`,
    );
  }
  return { ...config, path: rel };
}

/** Whether `path` is `dir` itself or inside it (both absolute and resolved). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
}
