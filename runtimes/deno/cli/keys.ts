/**
 * `event-router keys rotate [--new-key <hex|base64>]`: re-seals every secret at rest
 * (destination configs, route signature configs and enrich stages) under a new ENCRYPTION_KEY, then writes the
 * new key to <data>/encryption_key. Run it with the node stopped.
 */
import type { Store } from "../../../core/store.ts";
import { createSealer, parseEncryptionKey } from "../../../core/crypto/sealer.ts";
import { resealStore } from "../../../core/model/reseal.ts";
import type { NodeConfig } from "../config.ts";

const HELP = `Usage: event-router keys rotate [--new-key <64 hex chars | base64 of 32 bytes>]

Re-seals every stored secret under a new encryption key and writes it to
<data folder>/encryption_key (mode 0600). Stop the node first. When ENCRYPTION_KEY is set in
the environment, update it to the printed key afterwards.`;

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export async function keysCommand(
  args: string[],
  help: boolean,
  cfg: NodeConfig,
  open: () => Promise<Store>,
): Promise<number> {
  if (help || args[0] !== "rotate") return (console.log(HELP), help ? 0 : 2);
  const keyFile = `${cfg.dataDir}/encryption_key`;
  const oldText = cfg.encryptionKey ?? (await Deno.readTextFile(keyFile).catch(() => "")).trim();
  if (!oldText) {
    console.error(`no current key: ENCRYPTION_KEY is unset and ${keyFile} does not exist`);
    return 2;
  }
  const i = args.indexOf("--new-key");
  const newKey = i >= 0 && args[i + 1]
    ? parseEncryptionKey(args[i + 1])
    : crypto.getRandomValues(new Uint8Array(32));
  const oldSealer = createSealer(parseEncryptionKey(oldText));
  const newSealer = createSealer(newKey);
  const store = await open();
  let count;
  try {
    count = await resealStore(store, oldSealer, newSealer);
  } finally {
    await store.close();
  }
  // Keep the old key beside the new one until the operator is sure everything moved.
  await Deno.writeTextFile(`${keyFile}.old`, oldText + "\n", { mode: 0o600 }).catch(() => {});
  await Deno.writeTextFile(keyFile, hex(newKey) + "\n", { mode: 0o600 });
  await Deno.chmod(keyFile, 0o600);
  console.log(
    `re-sealed ${count.destinations} destination(s), ${count.routes} route(s) and ` +
      `${count.triggers} trigger(s); new key in ${keyFile}`,
  );
  if (cfg.encryptionKey) {
    console.log(`ENCRYPTION_KEY is set in the environment: set it to ${hex(newKey)}`);
  }
  return 0;
}
