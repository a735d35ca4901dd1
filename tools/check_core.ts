/**
 * `deno task check:core`: proves core/ is runtime-agnostic, the way Deno std type-checks its
 * browser-compatible modules. Three checks:
 *  1. no file in core/ imports node:*, adapters/, runtimes/ or ui/, or names the Deno global;
 *  2. core/ type-checks with only the web libraries (no Deno namespace);
 *  3. every core/ module, bundled for workerd with esbuild (browser and worker conditions, no
 *     Node built-ins), is imported by a Worker running in workerd (miniflare): nothing at
 *     import time needs Node or Deno, or anything else workerd refuses at start-up (random
 *     values, timers or code generation at module scope). It then reports which pipeline
 *     features workerd refuses at run time, so the README's list stays true.
 */
const root = new URL("../", import.meta.url).pathname;
const problems: string[] = [];

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (/\.(ts|tsx)$/.test(e.name)) yield p;
  }
}

const files: string[] = [];
for await (const f of walk(`${root}core`)) files.push(f);
for (const f of files) {
  const text = await Deno.readTextFile(f);
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  code.split("\n").forEach((line, i) => {
    const where = `${f.slice(root.length)}:${i + 1}`;
    if (/\bfrom\s+["']node:|import\(\s*["']node:/.test(line)) {
      problems.push(`${where} imports node:*`);
    }
    if (/\bfrom\s+["'](\.\.\/)+(adapters|runtimes|ui)\//.test(line)) {
      problems.push(`${where} imports outside core/: ${line.trim()}`);
    }
    if (/(^|[^.\w])Deno\./.test(line)) problems.push(`${where} uses the Deno namespace`);
  });
}

const cfg = await Deno.makeTempFile({ dir: root, prefix: ".core_check_", suffix: ".json" });
try {
  await Deno.writeTextFile(
    cfg,
    JSON.stringify({
      nodeModulesDir: "manual",
      compilerOptions: { strict: true, lib: ["esnext", "dom", "dom.iterable"] },
    }),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--config", cfg, ...files],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    problems.push(
      `type check without the Deno namespace failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
} finally {
  await Deno.remove(cfg);
}

problems.push(...await checkWorkerd(files));

if (problems.length) {
  console.error(`core/ is not runtime-agnostic:\n${problems.join("\n")}`);
  Deno.exit(1);
}
console.log(
  `core/ is runtime-agnostic: ${files.length} files, no Deno.*, no node:*, no adapter imports, ` +
    `and all of them import in workerd`,
);

/** Bundles every core module into one Worker and starts it in workerd. */
async function checkWorkerd(files: string[]): Promise<string[]> {
  const { bundleForWorkerd } = await import("../runtimes/cloudflare/build.ts");
  const { Miniflare } = await import("miniflare");
  const dir = await Deno.makeTempDir({ dir: root, prefix: ".core_check_workerd_" });
  try {
    const imports = files.map((f, i) => `import * as m${i} from "${f}";`).join("\n");
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(
      entry,
      `${imports}
import { compileJsonSchema } from "${root}core/pipeline/stages/json_schema.ts";
import { compileExpression } from "${root}core/pipeline/expression.ts";
const all = [${files.map((_, i) => `m${i}`).join(", ")}];
async function probe(fn: () => unknown) {
  try {
    await fn();
    return "runs";
  } catch (e) {
    return "refused: " + String((e as Error).message).slice(0, 120);
  }
}
export default {
  async fetch() {
    return Response.json({
      modules: all.length,
      json_schema: await probe(() => compileJsonSchema({ type: "object" })({})),
      jsonata: await probe(() => compileExpression("a + 1").evaluate({ a: 1 })),
    });
  },
};
`,
    );
    try {
      await bundleForWorkerd(entry, `${dir}/worker.js`);
    } catch (e) {
      return [`core/ does not bundle for workerd: ${(e as Error).message}`];
    }
    const mf = new Miniflare({
      modules: true,
      scriptPath: `${dir}/worker.js`,
      modulesRoot: dir,
      compatibilityDate: "2026-04-01",
      // ajv prints the code it could not compile; the probe's answer says it shorter
      handleRuntimeStdio(stdout: { resume(): void }, stderr: { resume(): void }) {
        stdout.resume();
        stderr.resume();
      },
    });
    try {
      const res = await mf.dispatchFetch("http://core.check/");
      const out = await res.json() as Record<string, unknown>;
      if (out.modules !== files.length) {
        return [`workerd imported ${out.modules} core modules of ${files.length}`];
      }
      console.log(`in workerd: JSON Schema validation ${out.json_schema}; JSONata ${out.jsonata}`);
      return [];
    } catch (e) {
      return [`core/ does not start in workerd: ${(e as Error).message}`];
    } finally {
      await mf.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
