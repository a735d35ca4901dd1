/**
 * Starts the real router process (`deno run main.ts serve`) on a temporary folder and a free
 * port, and talks to it over HTTP like a user would. Used by the end-to-end, crash and bench
 * runs, so they all exercise the same entry point and permission flags as `deno task start`.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
export const DENO = Deno.execPath();
export const START_FLAGS = [
  "run",
  // Deno KV (KV_PATH coordination) and Deno.cron (maintenance), as the start task passes them
  "--unstable-kv",
  "--unstable-cron",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
  `${ROOT}main.ts`,
  "serve",
];

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface RouterProcess {
  url: string;
  dir: string;
  child: Deno.ChildProcess;
  /** Collected stderr (JSON log lines). */
  logs(): string;
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

export async function startRouter(
  opts: {
    dir?: string;
    port?: number;
    env?: Record<string, string>;
    timeoutMs?: number;
    cwd?: string;
  } = {},
): Promise<RouterProcess> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "event-router-" });
  const port = opts.port ?? freePort();
  const child = new Deno.Command(DENO, {
    args: START_FLAGS,
    cwd: opts.cwd ?? ROOT,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_PATH: `${dir}/event-router.db`,
      LOG_LEVEL: "warn",
      ALLOW_PRIVATE_NETWORKS: "true",
      ...opts.env,
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const dec = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of child.stderr) log += dec.decode(chunk);
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      const r = await fetch(`${url}/health`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`router did not start within the timeout; logs:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    child,
    logs: () => log,
    async kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const status = await child.status;
      await pump.catch(() => {});
      return status;
    },
  };
}

/** A small API client: JSON in, JSON out, throws with the error body on non-2xx. */
export function apiClient(url: string, token?: string) {
  return async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} -> ${r.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

/** First start: log in as admin/admin, change the password, return a fresh token. */
export async function bootstrapAdmin(url: string, password = "change-me-now-1"): Promise<string> {
  const api = apiClient(url);
  const first = await api<{ token: string; must_change_password: boolean }>("POST", "/login", {
    username: "admin",
    password: "admin",
  }).catch(() => null);
  if (first?.must_change_password) {
    await apiClient(url, first.token)("POST", "/change-password", {
      current_password: "admin",
      new_password: password,
    });
  }
  const t = await api<{ token: string }>("POST", "/login", { username: "admin", password });
  return t.token;
}
