/**
 * `deno task check:core`: proves core/ is runtime-agnostic, the way Deno std type-checks its
 * browser-compatible modules. Two checks:
 *  1. no file in core/ imports node:*, adapters/, runtimes/ or ui/, or names the Deno global;
 *  2. core/ type-checks with only the web libraries (no Deno namespace).
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

if (problems.length) {
  console.error(`core/ is not runtime-agnostic:\n${problems.join("\n")}`);
  Deno.exit(1);
}
console.log(
  `core/ is runtime-agnostic: ${files.length} files, no Deno.*, no node:*, no adapter imports`,
);
