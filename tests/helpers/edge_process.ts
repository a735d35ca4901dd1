/**
 * Starts an edge runtime as its own process, the way its deno task does, pointed at a full
 * node: the Deploy entry (`deno run` with Deploy's permissions: net, env and the KV folder
 * only) or the Worker in workerd through miniflare. Kill it (SIGKILL too) and start it again
 * on the same folder to test what survives.
 */
import { DENO, freePort } from "./router_process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

export type EdgeKind = "deploy" | "cloudflare";

export interface EdgeProcess {
  kind: EdgeKind;
  url: string;
  port: number;
  dir: string;
  logs(): string;
  kill(signal?: Deno.Signal): Promise<void>;
}

export interface EdgeOptions {
  fullNodeUrl: string;
  secret: string;
  dir?: string;
  port?: number;
  env?: Record<string, string>;
}

/** The Deploy entry's command, as `deno task edge:deploy` runs it, with its KV in `dir`. */
export function deployCommand(dir: string): string[] {
  return [
    "run",
    "--unstable-kv",
    "--allow-net",
    "--allow-env",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    `${ROOT}runtimes/deploy/main.ts`,
  ];
}

export async function startEdge(kind: EdgeKind, opts: EdgeOptions): Promise<EdgeProcess> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: `edge-${kind}-` });
  const port = opts.port ?? freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: "127.0.0.1",
    FULL_NODE_URL: opts.fullNodeUrl,
    EDGE_SECRET: opts.secret,
    EDGE_ID: `test-${kind}`,
    LOG_LEVEL: "warn",
    ...opts.env,
  };
  const args = kind === "deploy"
    ? deployCommand(dir)
    : ["run", "-A", `${ROOT}runtimes/cloudflare/dev.ts`];
  if (kind === "deploy") env.KV_PATH = `${dir}/kv.sqlite3`;
  else env.EDGE_PERSIST_DIR = dir;
  // setsid: the edge gets its own process group, so a kill reaches workerd under miniflare too
  const child = new Deno.Command("setsid", {
    args: [DENO, ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const dec = new TextDecoder();
  const pumps = [child.stdout, child.stderr].map(async (s) => {
    for await (const chunk of s) log += dec.decode(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/health`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      killGroup(child.pid, "SIGKILL");
      throw new Error(`${kind} edge did not start; logs:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    kind,
    url,
    port,
    dir,
    logs: () => log,
    async kill(signal: Deno.Signal = "SIGTERM") {
      killGroup(child.pid, signal);
      await child.status;
      await Promise.allSettled(pumps);
      // workerd may outlive the runner for a moment: wait until the port is free
      for (let i = 0; i < 100; i++) {
        try {
          Deno.listen({ hostname: "127.0.0.1", port }).close();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}

function killGroup(pid: number, signal: Deno.Signal) {
  try {
    Deno.kill(-pid, signal);
  } catch { /* already gone */ }
}
