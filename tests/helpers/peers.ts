/**
 * Connection settings of the real test servers started by `tests/peers/start.sh`.
 * Values come from the environment, else from `tests/peers/peers.env` which the script writes.
 * In CI (CI=true) a test that needs a missing server fails; elsewhere it is skipped loudly.
 */
const envFile = new URL("../peers/peers.env", import.meta.url);

function loadEnvFile(): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const line of Deno.readTextFileSync(envFile).split("\n")) {
      const m = line.match(/^\s*([A-Z0-9_]+)=(.*)$/);
      if (m) out[m[1]] = m[2].replace(/^["']|["']$/g, "");
    }
    return out;
  } catch {
    return {};
  }
}

const fileEnv = loadEnvFile();

/** The value of a peer setting, or undefined when the server is not configured. */
export function peer(name: string): string | undefined {
  return Deno.env.get(name) ?? fileEnv[name];
}

export const inCI = Deno.env.get("CI") === "true";

/**
 * Options for Deno.test: `ignore` when the peer is missing outside CI (with a warning).
 * In CI the test runs and fails with a message naming the missing setting.
 */
export function needs(...names: string[]): { ignore: boolean } {
  const missing = names.filter((n) => !peer(n));
  if (missing.length && !inCI) {
    console.warn(`skipping: peer setting(s) ${missing.join(", ")} unset; run tests/peers/start.sh`);
    return { ignore: true };
  }
  return { ignore: false };
}

/** The value, or a thrown error naming the setting (used inside tests that need it). */
export function mustPeer(name: string): string {
  const v = peer(name);
  if (!v) {
    throw new Error(
      `peer setting ${name} is unset: start the test servers with tests/peers/start.sh`,
    );
  }
  return v;
}
