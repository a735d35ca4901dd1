/** Renders a page (Preact on the server) into a full HTML answer. */
import type { Context } from "hono";
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { type Frame, Layout } from "../components/layout.tsx";

export function html(c: Context, status: number, frame: Omit<Frame, "children">, body: VNode) {
  const text = `<!doctype html>${renderToString(<Layout {...frame}>{body}</Layout>)}`;
  return c.body(text, status as 200, {
    "content-type": "text/html; charset=utf-8",
    // Pages show a tenant's data: never kept by a shared cache, nor by the back button.
    "cache-control": "no-store",
  });
}
