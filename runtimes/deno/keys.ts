/**
 * JWT_SECRET and ENCRYPTION_KEY: taken from the environment, else read from (or generated
 * into) the data folder with mode 0600, so a first start needs no setup and a restart keeps
 * sessions valid and sealed secrets readable.
 */
import type { Logger } from "../../core/ports.ts";
import { parseEncryptionKey } from "../../core/crypto/sealer.ts";
import { ConfigError } from "./config.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function fileSecret(path: string, log: Logger, what: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const value = hex(crypto.getRandomValues(new Uint8Array(32)));
  await Deno.writeTextFile(path, value + "\n", { mode: 0o600, createNew: true });
  await Deno.chmod(path, 0o600);
  log.warn(`${what} is not set: generated one into ${path}; back this file up`, { file: path });
  return value;
}

export async function loadKeys(
  cfg: { jwtSecret?: string; encryptionKey?: string; dataDir: string },
  log: Logger,
) {
  // The encryption key first: a key file that does not parse stops the node before the JWT
  // secret is generated beside it.
  const encText = cfg.encryptionKey ??
    await fileSecret(`${cfg.dataDir}/encryption_key`, log, "ENCRYPTION_KEY");
  let encryptionKey: Uint8Array;
  try {
    encryptionKey = parseEncryptionKey(encText);
  } catch (e) {
    const where = cfg.encryptionKey ? "ENCRYPTION_KEY" : `${cfg.dataDir}/encryption_key`;
    throw new ConfigError(`${where} is invalid: ${(e as Error).message}`);
  }
  const jwt = cfg.jwtSecret ?? await fileSecret(`${cfg.dataDir}/jwt_secret`, log, "JWT_SECRET");
  return { jwtSecret: new TextEncoder().encode(jwt), encryptionKey };
}
