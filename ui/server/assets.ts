/**
 * The pages' static files under content-hashed names (`/ui/assets/islands.3f2a9c1b.js`), so
 * they are served `immutable` and a new build is a new URL. Gzipped once at start.
 */
export interface AssetSource {
  /** Logical name, e.g. "islands.js". */
  name: string;
  body: Uint8Array | string;
}

export interface Asset {
  name: string;
  path: string;
  type: string;
  body: Uint8Array;
  gzip: Uint8Array;
}

export interface AssetTable {
  /** The URL path of a logical name; throws for an unknown one (a bug, not user input). */
  url(name: string): string;
  has(name: string): boolean;
  byPath(path: string): Asset | undefined;
  all(): Asset[];
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
  json: "application/json",
};

export const ASSET_PREFIX = "/ui/assets/";

async function gzip(b: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([b as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

async function shortHash(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as BufferSource));
  return Array.from(d.slice(0, 5), (x) => x.toString(16).padStart(2, "0")).join("");
}

export async function prepareAssets(sources: AssetSource[]): Promise<AssetTable> {
  const byName = new Map<string, Asset>();
  const byPath = new Map<string, Asset>();
  for (const s of sources) {
    const body = typeof s.body === "string" ? new TextEncoder().encode(s.body) : s.body;
    const dot = s.name.lastIndexOf(".");
    const ext = s.name.slice(dot + 1);
    const path = `${ASSET_PREFIX}${s.name.slice(0, dot)}.${await shortHash(body)}.${ext}`;
    const a = {
      name: s.name,
      path,
      type: TYPES[ext] ?? "application/octet-stream",
      body,
      gzip: await gzip(body),
    };
    byName.set(s.name, a);
    byPath.set(path, a);
  }
  return {
    url(name) {
      const a = byName.get(name);
      if (!a) throw new Error(`no asset named ${name}`);
      return a.path;
    },
    has: (name) => byName.has(name),
    byPath: (path) => byPath.get(path),
    all: () => [...byName.values()],
  };
}

/** Serves one asset: gzip when the client takes it, cached for a year (the name changes). */
export function assetResponse(a: Asset, acceptEncoding: string | undefined): Response {
  const gz = /\bgzip\b/.test(acceptEncoding ?? "");
  const headers: Record<string, string> = {
    "content-type": a.type,
    "cache-control": "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    vary: "accept-encoding",
  };
  if (gz) headers["content-encoding"] = "gzip";
  return new Response((gz ? a.gzip : a.body) as BodyInit, { headers });
}
