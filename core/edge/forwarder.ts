/**
 * Forwarding from an edge's buffer to the full node: batches (by count and body bytes) signed
 * over the hop, and an event leaves the buffer only once the node's signed answer lists it as
 * committed or as a duplicate of one committed. Any other outcome leaves the batch where it
 * is for the next attempt; the platform decides when that is (`retryDelayMs`).
 */
import type { Clock, Envelope } from "../ports.ts";
import type { EdgeConfig } from "./edge_config.ts";
import { hopKey } from "./hop.ts";
import { batchResultSchema, MAX_BATCH_BODY_BYTES, toWire } from "./wire.ts";

/** An edge's durable buffer: Deno KV on Deploy, Durable Object storage on Workers. */
export interface EdgeBuffer {
  /** Resolves once the events are durable. */
  put(events: Envelope[]): Promise<void>;
  /** The oldest events, at most `limit`. */
  list(limit: number): Promise<Envelope[]>;
  /** Removes listed events (their keys come from id and receivedAt). */
  delete(events: Envelope[]): Promise<void>;
}

export type Forward = (events: Envelope[]) => Promise<string[]>;

const TIMEOUT_MS = 30_000;
const enc = new TextEncoder();

export function createForwarder(
  opts: { config: EdgeConfig; fetch: typeof fetch; clock: Clock },
): Forward {
  const { config, clock } = opts;
  const hop = hopKey(config.secret);
  return async (events) => {
    const body = enc.encode(JSON.stringify({ edge_id: config.edgeId, events: events.map(toWire) }));
    const res = await opts.fetch(`${config.fullNodeUrl}/edge/v1/events`, {
      method: "POST",
      body,
      headers: { ...(await hop.sign(body, clock.now())), "content-type": "application/json" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status !== 200) {
      throw new Error(`POST /edge/v1/events answered ${res.status}: ${text.slice(0, 200)}`);
    }
    const signed = await hop.verify(res.headers, enc.encode(text), clock.now());
    if (!signed.ok) throw new Error(`batch answer not signed by the full node: ${signed.reason}`);
    const sent = new Set(events.map((e) => e.id));
    return batchResultSchema.parse(JSON.parse(text)).results.map((r) => r.id).filter((id) =>
      sent.has(id)
    );
  };
}

/** Forwards until the buffer is empty; throws on the first failed batch (nothing lost). */
export async function drainBuffer(buffer: EdgeBuffer, forward: Forward, batchSize: number) {
  let sent = 0;
  for (;;) {
    const listed = await buffer.list(batchSize);
    if (listed.length === 0) return sent;
    const batch: Envelope[] = [];
    let bytes = 0;
    for (const e of listed) {
      if (batch.length > 0 && bytes + e.body.byteLength > MAX_BATCH_BODY_BYTES) break;
      batch.push(e);
      bytes += e.body.byteLength;
    }
    const confirmed = await forward(batch);
    if (confirmed.length === 0) throw new Error("the full node confirmed none of the batch");
    const done = new Set(confirmed);
    await buffer.delete(batch.filter((e) => done.has(e.id)));
    sent += done.size;
  }
}

/** Wait before the next attempt after `failures` failed ones: doubling from 1 s up to
 * `maxMs`, with jitter so many edges coming back do not arrive at once. */
export function retryDelayMs(failures: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, 1000 * 2 ** Math.min(failures, 20));
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}
