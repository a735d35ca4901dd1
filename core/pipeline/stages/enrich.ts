/**
 * enrich: one HTTP call whose JSON answer is merged into the event. The fetch comes from the
 * runtime already guarded against private, loopback, link-local and metadata addresses (and
 * redirects to them); this stage adds auth (bearer, basic, OAuth2), a timeout, a response size
 * cap, and a response cache in the state store keyed by the request (SHA-256 when long).
 */
import { toHex, utf8 } from "../bytes.ts";
import { permanentStatus, StageError } from "../stage_error.ts";
import { compileExpression } from "../expression.ts";
import { TokenSource } from "../oauth2.ts";
import { compileRef, type Working } from "../ref.ts";
import type { EnrichStage } from "../schema.ts";
import { compileTemplate, isTemplate, type Template } from "../template.ts";
import { type CompiledStage, CONTINUE, type StageContext } from "./stage.ts";

type BodyBuilder = (w: Working) => unknown;

/** String leaves of a JSON body become templates; the rest is copied as is. */
function compileBody(v: unknown): BodyBuilder {
  if (typeof v === "string") {
    if (!isTemplate(v)) return () => v;
    const t = compileTemplate(v);
    const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/.exec(v);
    if (whole) {
      const ref = compileRef(whole[1]);
      return (w) => ref.get(w) ?? null; // a lone placeholder keeps the value's JSON type
    }
    return t;
  }
  if (Array.isArray(v)) {
    const items = v.map(compileBody);
    return (w) => items.map((f) => f(w));
  }
  if (typeof v === "object" && v !== null) {
    const entries = Object.entries(v).map(([k, x]) => [k, compileBody(x)] as const);
    return (w) => Object.fromEntries(entries.map(([k, f]) => [k, f(w)]));
  }
  return () => v;
}

function deepMerge(target: unknown, source: unknown): unknown {
  if (
    typeof target !== "object" || target === null || Array.isArray(target) ||
    typeof source !== "object" || source === null || Array.isArray(source)
  ) return source;
  const out: Record<string, unknown> = { ...target as Record<string, unknown> };
  for (const [k, v] of Object.entries(source)) {
    if (k === "__proto__" || k === "constructor" || k === "prototype") continue;
    out[k] = k in out ? deepMerge(out[k], v) : v;
  }
  return out;
}

async function readLimited(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared > max) throw new StageError(`response of ${declared} bytes exceeds ${max}`, true);
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new StageError(`response exceeds ${max} bytes`, true);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, at), at += c.length;
  return new TextDecoder().decode(all);
}

export function compileEnrich(cfg: EnrichStage, name: string, index: number): CompiledStage {
  const url = compileTemplate(cfg.url, { encode: encodeURIComponent, strict: true });
  const headers: [string, Template][] = Object.entries(cfg.headers).map((
    [k, v],
  ) => [k.toLowerCase(), compileTemplate(v)]);
  const body = cfg.body !== undefined ? compileBody(cfg.body) : null;
  const cacheKey = cfg.cache_key ? compileTemplate(cfg.cache_key) : null;
  const select = cfg.select ? compileExpression(cfg.select) : null;
  const into = compileRef(cfg.into);
  const merge = cfg.merge ?? (cfg.into === "$" ? "deep" : "replace");
  const auth = cfg.auth;
  const tokens = auth && auth.type.startsWith("oauth2_")
    ? new TokenSource(auth as ConstructorParameters<typeof TokenSource>[0])
    : null;

  const call = async (w: Working, ctx: StageContext, target: string, payload: string | null) => {
    const h: Record<string, string> = { accept: "application/json" };
    for (const [k, t] of headers) h[k] = t(w);
    if (payload !== null) h["content-type"] ??= "application/json";
    for (let attempt = 0;; attempt++) {
      if (auth?.type === "bearer") h.authorization = `Bearer ${auth.token}`;
      else if (auth?.type === "basic") {
        h.authorization = `Basic ${btoa(`${auth.username}:${auth.password}`)}`;
      } else if (tokens) {
        h.authorization = `Bearer ${await tokens.token(
          ctx.deps.fetch,
          ctx.deps.now(),
          cfg.timeout_ms,
        )}`;
      }
      const res = await ctx.deps.fetch(target, {
        method: cfg.method,
        headers: h,
        body: payload,
        signal: AbortSignal.timeout(cfg.timeout_ms),
      });
      // One retry with a fresh token: the cached one may have been revoked early.
      if (res.status === 401 && tokens && attempt === 0) {
        await res.body?.cancel();
        tokens.invalidate();
        continue;
      }
      if (res.status === 404 && cfg.allow_not_found) {
        await res.body?.cancel();
        return null;
      }
      const text = await readLimited(res, cfg.max_response_bytes);
      if (!res.ok) {
        // A 4xx will not change by itself (except 408, 425, 429): dead-letter, do not retry.
        throw new StageError(
          `${cfg.method} ${target} answered ${res.status}: ${text.slice(0, 200)}`,
          permanentStatus(res.status),
        );
      }
      const type = res.headers.get("content-type") ?? "";
      if (text === "") return null;
      if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
        try {
          return JSON.parse(text);
        } catch {
          throw new Error(`${cfg.method} ${target} answered invalid JSON`);
        }
      }
      return text;
    }
  };

  return {
    name,
    type: "enrich",
    index,
    onError: cfg.on_error ?? "retry",
    reshapes: true,
    async run(w, ctx) {
      const target = url(w);
      const payload = body ? JSON.stringify(body(w)) : null;
      let data: unknown;
      let key: string | null = null;
      if (cfg.cache_ttl_ms > 0) {
        const raw = cacheKey ? cacheKey(w) : `${cfg.method} ${target} ${payload ?? ""}`;
        // Short keys are used as they are; long ones are hashed (SHA-256, no collisions to
        // fear) so state keys stay small.
        const id = raw.length <= 256
          ? raw
          : toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(raw))));
        key = `enrich:${ctx.routeId}:${ctx.scope}:${name}:${id}`;
        const hit = await ctx.deps.state.get(key) as { v: unknown } | undefined;
        if (hit !== undefined) data = hit.v;
      }
      const cached = data !== undefined;
      if (!cached) {
        data = await call(w, ctx, target, payload);
        if (key && !ctx.deps.dryRun) {
          await ctx.deps.state.set(key, { v: data }, ctx.deps.now() + cfg.cache_ttl_ms);
        }
      }
      if (select) data = await select.evaluate(data, {}) ?? null;
      if (merge === "replace") into.set(w, data);
      else if (data !== null && data !== undefined) {
        const current = into.get(w);
        into.set(
          w,
          merge === "deep"
            ? deepMerge(current, data)
            : typeof current === "object" && current !== null && !Array.isArray(current) &&
                typeof data === "object" && data !== null && !Array.isArray(data)
            ? { ...current, ...data }
            : data,
        );
      }
      return cached ? { kind: "continue", note: "from cache" } : CONTINUE;
    },
  };
}
