/**
 * `npm install` on the Node the README names prints no engine warning from the project's own
 * dependencies: every package in the lock file that states `engines.node` admits the lowest
 * version package.json allows.
 */
import assert from "node:assert/strict";
import semver from "semver";

const read = (p: string) =>
  JSON.parse(Deno.readTextFileSync(new URL(`../../${p}`, import.meta.url)));

Deno.test("every locked dependency runs on the lowest Node package.json allows", () => {
  const range = read("package.json").engines?.node as string;
  assert.ok(range, "package.json states the Node it needs");
  const lowest = semver.minVersion(range)!.version;
  assert.equal(semver.major(lowest), 20, "Node 20, the documented one");
  const refused: string[] = [];
  for (
    const [path, info] of Object.entries(
      read("package-lock.json").packages as Record<
        string,
        { version?: string; engines?: { node?: string } }
      >,
    )
  ) {
    const wants = info.engines?.node;
    if (path && wants && !semver.satisfies(lowest, wants)) {
      refused.push(`${path.replace(/^node_modules\//, "")}@${info.version} wants node ${wants}`);
    }
  }
  assert.deepEqual(refused, [], `packages that warn on node ${lowest}`);
  const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  assert.match(
    readme,
    new RegExp(`Node\\.js ${lowest.replace(/\.0$/, "").replaceAll(".", "\\.")}`),
  );
});
