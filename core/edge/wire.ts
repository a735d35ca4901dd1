/**
 * What travels between an edge and the full node, as JSON with strict schemas (unknown keys
 * refused, every size bounded). Event bodies go as base64, so any bytes arrive exactly.
 */
import { z } from "zod";
import type { Envelope } from "../ports.ts";
import { decodeBase64, encodeBase64 } from "../crypto/encoding.ts";

export const EDGE_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_BATCH_EVENTS = 500;
/** Raw body bytes an edge puts in one batch (the JSON is about a third larger). */
export const MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024;
/** The largest batch request the full node reads. */
export const MAX_BATCH_REQUEST_BYTES = 16 * 1024 * 1024;

const wireEvent = z.strictObject({
  id: z.string().regex(/^evt_[a-z0-9]{10,40}$/, "must be an event id (evt_...)"),
  route_id: z.string().regex(/^route_[a-z0-9]{10,40}$/, "must be a route id (route_...)"),
  tenant: z.string().min(1).max(64),
  received_at: z.number().int().min(0),
  method: z.string().min(1).max(16),
  path: z.string().startsWith("/webhook/").max(512),
  query: z.string().max(16_384),
  ip: z.string().max(128),
  headers: z.record(z.string().max(256), z.string().max(16_384)).refine(
    (h) => Object.keys(h).length <= 500,
    "must hold at most 500 headers",
  ),
  body: z.base64().max(Math.ceil(MAX_BATCH_BODY_BYTES / 3) * 4 + 4),
  dedup_key: z.string().max(256).nullable(),
});

export const batchSchema = z.strictObject({
  edge_id: z.string().regex(EDGE_ID, "must be 1-64 letters, digits, '.', '_' or '-'"),
  events: z.array(wireEvent).min(1).max(MAX_BATCH_EVENTS),
});
export type WireBatch = z.infer<typeof batchSchema>;
export type WireEvent = WireBatch["events"][number];

export const batchResultSchema = z.strictObject({
  results: z.array(z.strictObject({
    id: z.string(),
    status: z.enum(["committed", "duplicate"]),
    duplicate_of: z.string().optional(),
  })).max(MAX_BATCH_EVENTS),
});
export type BatchResult = z.infer<typeof batchResultSchema>;

export function toWire(e: Envelope): WireEvent {
  return {
    id: e.id,
    route_id: e.routeId!,
    tenant: e.tenant,
    received_at: e.receivedAt,
    method: e.method,
    path: e.path,
    query: e.query,
    ip: e.ip,
    headers: e.headers,
    body: encodeBase64(e.body),
    dedup_key: e.dedupKey ?? null,
  };
}

/** The envelope the full node stores: the edge's id and time, `source` naming the edge. */
export function fromWire(w: WireEvent, edgeId: string): Envelope {
  return {
    id: w.id,
    tenant: w.tenant,
    routeId: w.route_id,
    source: `edge:${edgeId}`,
    receivedAt: w.received_at,
    method: w.method,
    path: w.path,
    query: w.query,
    ip: w.ip,
    headers: w.headers,
    body: decodeBase64(w.body) ?? new Uint8Array(),
    dedupKey: w.dedup_key,
  };
}
