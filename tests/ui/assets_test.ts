/**
 * The committed ui/assets/built.ts is what `deno task build:ui` makes from the sources now:
 * an island changed without a rebuild fails here, not in a user's browser.
 */
import assert from "node:assert/strict";
import { buildUi, BUILT_PATH } from "../../tools/build_ui.ts";

Deno.test("ui/assets/built.ts matches a fresh build of ui/client, ui/islands and app.css", async () => {
  const fresh = await buildUi();
  const committed = await Deno.readTextFile(BUILT_PATH);
  assert.ok(
    fresh === committed,
    "ui/assets/built.ts is stale: run `./tools/deno task build:ui` and commit the result",
  );
  const { BUILT } = await import("../../ui/assets/built.ts");
  assert.deepEqual(Object.keys(BUILT).sort(), ["app.css", "docs.js", "islands.js"]);
  // Nothing is imported from another host (the browser tests check every request too).
  assert.doesNotMatch(BUILT["islands.js"], /\bimport\s*\(?\s*["']https?:/);
});
