/**
 * The admin pages for the full node: ui/ plus the API reference's files from swagger-ui-dist,
 * read from node_modules next to this checkout. `deno task compile` embeds both files with
 * `--include`; without them /docs says so and the pages still work.
 */
import { createUi, type Ui } from "../../ui/mod.ts";
import type { AssetSource } from "../../ui/server/assets.ts";
import type { Logger } from "../../core/ports.ts";

const SWAGGER = new URL("../../node_modules/swagger-ui-dist/", import.meta.url);
export const SWAGGER_FILES = ["swagger-ui-bundle.js", "swagger-ui.css"];

export async function swaggerAssets(log?: Logger): Promise<AssetSource[]> {
  try {
    return await Promise.all(
      SWAGGER_FILES.map(async (name) => ({
        name,
        body: await Deno.readFile(new URL(name, SWAGGER)),
      })),
    );
  } catch (e) {
    log?.warn("the API reference's files are missing: /docs shows only a link to the spec", {
      error: String(e),
    });
    return [];
  }
}

export async function nodeUi(log?: Logger): Promise<Ui> {
  return await createUi({ extraAssets: await swaggerAssets(log) });
}
