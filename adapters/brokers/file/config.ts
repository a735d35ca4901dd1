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
 * Parses the config. With `root`, the path must resolve inside it: a tenant must not be able
 * to append to arbitrary files on the node.
 */
export function parseFileConfig(input: unknown, root?: string): FileConfig {
  const config = parseConfigWith("file", fileConfigSchema, input);
  if (root !== undefined) {
    const base = resolve(root);
    const full = resolve(base, config.path);
    const rel = relative(base, full);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
      throw new ConfigError(`file config: path: must be inside ${base}, got ${config.path}`);
    }
    return { ...config, path: full };
  }
  return config;
}
