/**
 * Bundles the Worker entry for workerd with esbuild: one ES module, browser/worker conditions,
 * nothing from Node or Deno. `deno task check:core` uses the same build for its workerd proof.
 */
import * as esbuild from "esbuild";

const ROOT = new URL("../../", import.meta.url).pathname;

export async function bundleForWorkerd(entry: string, outfile: string): Promise<void> {
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    nodePaths: [`${ROOT}node_modules`],
    logLevel: "warning",
    minify: false,
  });
  await esbuild.stop();
}

export const WORKER_BUNDLE = `${ROOT}dist/cloudflare/worker.js`;

if (import.meta.main) {
  await bundleForWorkerd(`${ROOT}runtimes/cloudflare/worker.ts`, WORKER_BUNDLE);
  console.log(`bundled ${WORKER_BUNDLE}`);
}
