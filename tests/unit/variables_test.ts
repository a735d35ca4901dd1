/** Every variable the node reads is listed once, and the README's table says exactly that. */
import assert from "node:assert/strict";
import { VARIABLE_NAMES, VARIABLES, variablesHelp } from "../../runtimes/deno/variables.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

/** The rows of the README's configuration table: name, default, meaning (cells trimmed). */
function readmeRows(): string[][] {
  const readme = read("README.md");
  const start = readme.indexOf("## Configuration");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return section.split("\n")
    .filter((l) => /^\| `[A-Z0-9_]+`/.test(l))
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
}

Deno.test("README's configuration table lists exactly the variables, defaults and meanings", () => {
  const rows = readmeRows();
  assert.deepEqual(
    rows.map((r) => r[0].replaceAll("`", "")),
    VARIABLES.map((v) => v.name),
    "same variables, same order",
  );
  for (const [i, v] of VARIABLES.entries()) {
    assert.equal(rows[i][1], v.default, `${v.name}: default`);
    assert.equal(rows[i][2], v.meaning, `${v.name}: meaning`);
  }
});

Deno.test("the config loader reads only listed variables, and every listed one", () => {
  const src = read("runtimes/deno/config.ts");
  const readNames = new Set([
    ...[...src.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]),
    ...[...src.matchAll(/\b(?:int|bool|oneOf)\(\s*(?:src|env),\s*"([A-Z][A-Z0-9_]+)"/g)].map((m) =>
      m[1]
    ),
  ]);
  for (const name of readNames) assert.ok(VARIABLE_NAMES.has(name), `${name} is read but unlisted`);
  for (const name of VARIABLE_NAMES) assert.ok(readNames.has(name), `${name} is listed but unread`);
});

Deno.test("the full node reads no variable behind the config loader's back", async () => {
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory) await walk(`${path}/`);
      else if (path.endsWith(".ts") && /Deno\.env\.(get|toObject)/.test(read(path))) {
        offenders.push(path);
      }
    }
  };
  await walk("runtimes/deno/");
  await walk("adapters/");
  await walk("core/");
  assert.deepEqual(offenders, [], "variables are read in runtimes/deno/config.ts only");
});

Deno.test("serve --help lists every variable with its default", () => {
  const help = variablesHelp();
  for (const v of VARIABLES) {
    assert.match(help, new RegExp(`^  ${v.name}(=|\\s)`, "m"), v.name);
  }
  assert.match(help, /^ {2}DATABASE_TYPE=sqlite .*postgres/m);
});
