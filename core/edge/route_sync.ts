/**
 * An edge's routes: fetched from the full node over the hop (signed request, signed and sealed
 * answer, ETag), kept in memory and saved sealed to the platform's storage, so the edge keeps
 * answering from its copy while the full node is away, also after a restart. While the node
 * answers, a request after the refresh interval waits for the refresh: a route deleted or
 * deactivated there stops being accepted within one interval. While it does not, the copy is
 * served as it is and refreshes are tried in the background.
 */
import type { Clock, Logger } from "../ports.ts";
import type { IngressLimits, IngressRoute } from "../ingress/ingress.ts";
import { responseTemplateSchema } from "../ingress/response_template.ts";
import { parseSignatureConfig } from "../verify/signature_config.ts";
import type { EdgeConfig } from "./edge_config.ts";
import { hopKey } from "./hop.ts";
import { type RoutesDoc, routesDocSchema } from "./routes_doc.ts";

/** Where the sealed document survives a restart (Deno KV, Durable Object storage). */
export interface RoutesBackup {
  load(): Promise<string | null>;
  save(sealed: string): Promise<void>;
}

export interface RouteSyncStatus {
  routes: number;
  version: string | null;
  checked_ms_ago: number | null;
  last_error: string | null;
}

export interface EdgeRoutes {
  lookup(path: string): Promise<IngressRoute | null>;
  /** Fetches now; resolves false when the full node could not be asked. */
  refresh(): Promise<boolean>;
  limits(): IngressLimits;
  status(): RouteSyncStatus;
}

interface Installed {
  version: string;
  maxBodyBytes: number;
  byEndpoint: Map<string, IngressRoute>;
}

const TIMEOUT_MS = 5000;
const EMPTY = new Uint8Array();
const enc = new TextEncoder();

export function createRouteSync(opts: {
  config: EdgeConfig;
  fetch: typeof fetch;
  backup: RoutesBackup;
  clock: Clock;
  log: Logger;
}): EdgeRoutes {
  const { config, clock, log } = opts;
  const hop = hopKey(config.secret);
  let current: Installed | null = null;
  let checkedAt = 0;
  let lastOk = false;
  let lastError: string | null = null;
  let inflight: Promise<boolean> | null = null;

  function install(doc: RoutesDoc): Installed {
    const byEndpoint = new Map<string, IngressRoute>();
    for (const r of doc.routes) {
      try {
        const tpl = r.response ? responseTemplateSchema.parse(r.response) : null;
        byEndpoint.set(r.endpoint, {
          id: r.id,
          owner: r.owner,
          version: r.version,
          active: true,
          method: r.method,
          limits: r.limits,
          signature: r.signature_config ? parseSignatureConfig(r.signature_config) : null,
          response: tpl,
        });
      } catch (e) {
        // a config this edge's version cannot read: 404 here rather than a wrong check
        log.warn("edge cannot serve route", { route_id: r.id, error: String(e) });
      }
    }
    return { version: doc.version, maxBodyBytes: doc.max_body_bytes, byEndpoint };
  }

  async function open(sealed: string): Promise<Installed> {
    return install(routesDocSchema.parse(JSON.parse(await hop.sealer.open(sealed))));
  }

  async function fetchRoutes(): Promise<boolean> {
    try {
      const headers: Record<string, string> = await hop.sign(EMPTY, clock.now());
      if (current) headers["if-none-match"] = `"${current.version}"`;
      const res = await opts.fetch(`${config.fullNodeUrl}/edge/v1/routes`, {
        headers,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200 && res.status !== 304) {
        throw new Error(`GET /edge/v1/routes answered ${res.status}: ${text.slice(0, 200)}`);
      }
      const signed = await hop.verify(res.headers, enc.encode(text), clock.now());
      if (!signed.ok) {
        throw new Error(`routes answer not signed by the full node: ${signed.reason}`);
      }
      if (res.status === 200) {
        current = await open(text);
        await opts.backup.save(text).catch((e) =>
          log.warn("could not save the routes copy", { error: String(e) })
        );
        log.info("edge routes updated", {
          version: current.version,
          routes: current.byEndpoint.size,
        });
      }
      checkedAt = clock.now();
      lastOk = true;
      lastError = null;
      return true;
    } catch (e) {
      lastOk = false;
      lastError = String(e);
      checkedAt = clock.now();
      log.warn("edge routes refresh failed", { error: lastError });
      return false;
    }
  }

  const refresh = () => (inflight ??= fetchRoutes().finally(() => (inflight = null)));

  async function firstLoad() {
    if (await refresh()) return;
    const saved = await opts.backup.load().catch(() => null);
    if (saved && !current) {
      current = await open(saved);
      log.warn("full node unreachable: serving the saved routes copy", {
        version: current.version,
      });
    }
  }

  return {
    async lookup(path) {
      if (!current) {
        await firstLoad();
        if (!current) throw new Error(`routes unknown: ${lastError ?? "no saved copy"}`);
      } else if (clock.now() - checkedAt >= config.routesRefreshMs) {
        const pending = refresh();
        if (lastOk) await pending;
      }
      return current!.byEndpoint.get(path) ?? null;
    },
    refresh,
    limits: () => ({
      maxBodyBytes: current?.maxBodyBytes ?? 1024 * 1024,
      globalRatePerSecond: 0,
      globalBurst: 1,
    }),
    status: () => ({
      routes: current?.byEndpoint.size ?? 0,
      version: current?.version ?? null,
      checked_ms_ago: checkedAt ? clock.now() - checkedAt : null,
      last_error: lastError,
    }),
  };
}
