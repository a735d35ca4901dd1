/**
 * Dry runs for `POST /api/routes/{id}/test`: a sample request (or a stored event) through a
 * route definition, compiled fresh (an unsaved edit must not hit the cache of the saved
 * version). Nothing is written to the state and nothing is delivered; enrich stages still make
 * their HTTP calls, because their answers are part of what the user wants to see.
 */
import { utf8 } from "./bytes.ts";
import { buildRoute } from "./compile.ts";
import { parseBody, parseQuery } from "./event.ts";
import { runRoute } from "./run.ts";
import type { RouteDefinition } from "./schema.ts";
import type { PipelineDeps, PipelineEvent, RouteOutcome } from "./types.ts";

export interface DrySample {
  /** A parsed JSON value, or the raw text (parsed by content-type like a real request). */
  body: unknown;
  headers?: Record<string, string>;
  /** "a=1&b=2" or an object. */
  query?: string | Record<string, string | string[]>;
  method?: string;
  path?: string;
  ip?: string;
  source?: string;
  /** Fixes the event id (the weighted split hashes it); default "evt_dry_run". */
  id?: string;
  tenant?: string;
  receivedAt?: number;
  meta?: Record<string, unknown>;
}

/** The PipelineEvent a sample stands for. */
export function sampleToEvent(
  sample: DrySample,
  routeId: string | null,
  now: number,
): PipelineEvent {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(sample.headers ?? {})) headers[k.toLowerCase()] = v;
  let body: unknown;
  let raw: Uint8Array;
  if (typeof sample.body === "string") {
    raw = utf8(sample.body);
    body = parseBody(raw, headers["content-type"]);
  } else {
    body = sample.body ?? null;
    raw = utf8(JSON.stringify(body));
    headers["content-type"] ??= "application/json";
  }
  return {
    id: sample.id ?? "evt_dry_run",
    tenant: sample.tenant ?? "",
    routeId,
    source: sample.source ?? "webhook",
    receivedAt: sample.receivedAt ?? now,
    method: sample.method ?? "POST",
    path: sample.path ?? "/",
    query: parseQuery(sample.query),
    ip: sample.ip ?? "127.0.0.1",
    headers,
    body,
    meta: sample.meta ?? {},
    rawBody: raw,
  };
}

export function dryRunEvent(
  def: RouteDefinition,
  event: PipelineEvent,
  deps: PipelineDeps,
): Promise<RouteOutcome> {
  return runRoute(buildRoute(def), event, { ...deps, dryRun: true });
}

export function dryRun(
  def: RouteDefinition,
  sample: DrySample,
  deps: PipelineDeps,
): Promise<RouteOutcome> {
  return dryRunEvent(def, sampleToEvent(sample, def.id, deps.now()), deps);
}
