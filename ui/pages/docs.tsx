/** /docs: the API reference (Swagger UI from the node's own swagger-ui-dist, no CDN). */
import { renderToString } from "preact-render-to-string";
import type { AssetTable } from "../server/assets.ts";

export function docsHtml(assets: AssetTable): string {
  const ready = assets.has("swagger-ui-bundle.js") && assets.has("swagger-ui.css");
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Event Router API</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={assets.url("app.css")} />
        {ready ? <link rel="stylesheet" href={assets.url("swagger-ui.css")} /> : null}
        {ready ? <script defer src={assets.url("swagger-ui-bundle.js")} /> : null}
        {ready ? <script defer src={assets.url("docs.js")} /> : null}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui/">Event Router</a>
          <nav aria-label="Main">
            <a href="/ui/">Admin pages</a>
            <a href="/openapi.json">openapi.json</a>
          </nav>
        </header>
        {ready ? <div id="swagger-ui" /> : (
          <main>
            <p class="alert" role="alert">
              The API reference's files (swagger-ui-dist) are not installed on this node. The
              description itself is at <a href="/openapi.json">/openapi.json</a>.
            </p>
          </main>
        )}
      </body>
    </html>
  );
  return `<!doctype html>${renderToString(page)}`;
}
