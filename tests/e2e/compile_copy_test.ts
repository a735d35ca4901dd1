/**
 * The full node as one executable. `deno compile` embeds the module graph of main.ts plus
 * what `--include` names, and nothing else; its runtime (`denort`) cannot be downloaded here.
 * So this test builds what the binary would hold, from the compile task itself: the graph
 * (`deno info`) and the included files, copied outside the checkout, then runs that copy with
 * the compile's permission flags from yet another folder. A read of any other path relative
 * to the source tree (a migration file, a UI asset) fails here as it would in the binary.
 * `.ci/run` compiles and starts the real binary where DENORT_BIN is set.
 */
import assert from "node:assert/strict";
import { apiClient, bootstrapAdmin, DENO, freePort } from "../helpers/router_process.ts";
import { startSink } from "../helpers/sink.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The compile task's flags, entry and includes, read from deno.json. */
async function compileTask() {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const words: string[] = tasks.compile.split(/\s+/);
  const at = words.indexOf("compile");
  const flags: string[] = [], includes: string[] = [];
  let entry = "";
  for (let i = at + 1; i < words.length; i++) {
    const w = words[i];
    if (w === "--include") includes.push(words[++i]);
    else if (w === "--output") i++;
    else if (w.startsWith("--")) flags.push(w);
    else entry = w;
  }
  return { flags, includes, entry, args: words.slice(words.indexOf(entry) + 1) };
}

async function localGraph(file: string): Promise<string[]> {
  const out = await new Deno.Command(DENO, {
    args: ["info", "--json", file],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  return info.modules
    .filter((m: { specifier: string }) => m.specifier.startsWith(`file://${ROOT}`))
    .map((m: { local: string }) => m.local.slice(ROOT.length))
    .filter((f: string) => !f.startsWith("node_modules/"));
}

async function copyInto(dest: string, rel: string) {
  const to = `${dest}/${rel}`;
  await Deno.mkdir(to.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.copyFile(`${ROOT}${rel}`, to);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await walk(rel));
    else out.push(rel);
  }
  return out;
}

Deno.test("compile: the program runs from a copy of exactly what the binary embeds, outside the checkout", async () => {
  const task = await compileTask();
  assert.equal(task.entry, "main.ts");
  assert.ok(
    task.includes.includes("adapters/store/sqlite/sqlite_worker.ts"),
    "the SQLite worker is embedded",
  );
  const files = new Set(await localGraph(task.entry));
  for (const inc of task.includes) {
    const stat = await Deno.stat(`${ROOT}${inc}`);
    if (stat.isDirectory) { for (const f of await walk(inc)) files.add(f); }
    else for (const f of await localGraph(inc)) files.add(f);
  }
  const prog = await Deno.makeTempDir({ prefix: "event-router-program-" });
  const cwd = await Deno.makeTempDir({ prefix: "event-router-cwd-" });
  const sink = await startSink();
  let child: Deno.ChildProcess | null = null;
  try {
    for (const f of files) await copyInto(prog, f);
    await copyInto(prog, "deno.json");
    await copyInto(prog, "package.json");
    // npm packages are embedded whole by compile: the copy uses the installed ones
    await Deno.symlink(`${ROOT}node_modules`, `${prog}/node_modules`);
    assert.ok(!files.has("README.md"), "only modules and includes are copied");

    const port = freePort();
    child = new Deno.Command(DENO, {
      args: ["run", ...task.flags, `${prog}/${task.entry}`, "serve"],
      cwd,
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_PATH: `${cwd}/data/event-router.db`,
        LOG_LEVEL: "warn",
        ALLOW_PRIVATE_NETWORKS: "true",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    const pump = (async () => {
      for await (const c of child!.stderr) log += new TextDecoder().decode(c);
    })();
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${url}/health`).then((r) => (r.body?.cancel(), r.ok), () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`the copied program did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const api = apiClient(url, await bootstrapAdmin(url));
    const dest = await api("POST", "/api/destinations", {
      name: "sink",
      type: "http",
      config: { url: `${sink.url}/in` },
    });
    const route = await api<{ endpoint: string }>("POST", "/api/routes", {
      name: "compiled",
      destinations: [{ destination_id: dest.id }],
    });
    const r = await fetch(`${url}${route.endpoint}`, { method: "POST", body: '{"a":1}' });
    const { id } = await r.json();
    assert.equal(r.status, 202);
    const until = Date.now() + 15_000;
    while (!sink.events.has(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.events.get(id), 1, `delivered from the copy; logs:\n${log}`);
    // The admin pages' assets are code (ui/assets/built.ts); /docs' files come from --include.
    for (
      const [page, asset] of [["/ui/sign-in", /\/ui\/assets\/islands\.\w+\.js/], [
        "/docs",
        /\/ui\/assets\/swagger-ui-bundle\.\w+\.js/,
      ]] as const
    ) {
      const html = await (await fetch(`${url}${page}`)).text();
      const path = html.match(asset)?.[0];
      assert.ok(path, `${page} links its script; logs:\n${log}`);
      const a = await fetch(`${url}${path}`);
      await a.body?.cancel();
      assert.equal(a.status, 200, `${path} is served from the copy`);
    }
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0, log);
    child = null;
    await pump;
    assert.ok(!/error/i.test(log), `clean logs:\n${log}`);
  } finally {
    if (child) {
      child.kill("SIGKILL");
      await child.status;
    }
    await sink.stop();
    await Deno.remove(prog, { recursive: true });
    await Deno.remove(cwd, { recursive: true });
  }
});
