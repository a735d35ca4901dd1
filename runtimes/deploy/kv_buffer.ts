/**
 * The Deploy edge's durable buffer in Deno KV. An event is one atomic commit: its envelope,
 * its body (in 60 KiB parts when it is larger than a KV value may be) and a queue message
 * (`kv.enqueue`) that wakes a forwarder, on this isolate or another one Deploy starts for it.
 * Keys start with the receive time, so forwarding goes oldest first. An event is deleted only
 * after the full node confirmed it (core/edge/forwarder.ts).
 */
import type { Envelope } from "../../core/ports.ts";
import type { EdgeBuffer } from "../../core/edge/forwarder.ts";

const EVENTS = ["edge", "ev"];
const BODIES = ["edge", "body"];
const PART = 60 * 1024;
/** An atomic commit holds at most 800 KiB; this leaves room for the envelope and the message. */
export const KV_MAX_BODY_BYTES = 12 * PART;

export interface DrainMessage {
  kind: "edge-drain";
}
export const DRAIN: DrainMessage = { kind: "edge-drain" };

/** The bytes in a buffer of their own: a view is stored with its whole underlying buffer
 * (a request body is often a view into a larger read buffer). */
export function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

/** What one commit may carry besides the message, with room to spare. */
const COMMIT_BYTES = 760 * 1024;

function headerBytes(e: Envelope): number {
  let n = e.path.length + e.query.length + e.ip.length + (e.dedupKey?.length ?? 0);
  for (const k in e.headers) n += k.length + e.headers[k].length + 8;
  return n;
}

type Stored = Omit<Envelope, "body"> & { body: Uint8Array | null; parts: number };

const key = (e: Pick<Envelope, "id" | "receivedAt">) => [...EVENTS, e.receivedAt, e.id];

export function createKvBuffer(kv: Deno.Kv): EdgeBuffer {
  return {
    async put(events) {
      // one atomic commit per group of events that fits Deno KV's limits (800 KiB, 1000
      // mutations), each with its wake-up message
      let op = kv.atomic();
      let bytes = 0, mutations = 0;
      const commit = async () => {
        op.enqueue(DRAIN);
        const r = await op.commit();
        if (!r.ok) throw new Error("Deno KV refused the commit");
      };
      for (const e of events) {
        const inline = e.body.byteLength <= PART;
        const parts = inline ? 0 : Math.ceil(e.body.byteLength / PART);
        const size = e.body.byteLength + headerBytes(e) + 512;
        if (mutations > 0 && (bytes + size > COMMIT_BYTES || mutations + parts + 1 > 900)) {
          await commit();
          op = kv.atomic();
          bytes = mutations = 0;
        }
        op.set(key(e), { ...e, body: inline ? own(e.body) : null, parts } satisfies Stored);
        for (let i = 0; i < parts; i++) {
          op.set([...BODIES, e.id, i], e.body.slice(i * PART, (i + 1) * PART));
        }
        bytes += size;
        mutations += parts + 1;
      }
      await commit();
    },
    async list(limit) {
      const out: Envelope[] = [];
      for await (const entry of kv.list<Stored>({ prefix: EVENTS }, { limit })) {
        const { parts, body, ...rest } = entry.value;
        out.push({ ...rest, body: body ?? await readParts(kv, rest.id, parts) });
      }
      return out;
    },
    async delete(events) {
      // a few events per commit keeps each one far below the 1000-mutation limit
      for (let i = 0; i < events.length; i += 50) {
        const op = kv.atomic();
        for (const e of events.slice(i, i + 50)) {
          op.delete(key(e));
          const parts = Math.ceil(e.body.byteLength / PART);
          if (e.body.byteLength > PART) {
            for (let p = 0; p < parts; p++) op.delete([...BODIES, e.id, p]);
          }
        }
        await op.commit();
      }
    },
  };
}

async function readParts(kv: Deno.Kv, id: string, parts: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const entry of kv.list<Uint8Array>({ prefix: [...BODIES, id] })) {
    chunks.push(entry.value);
  }
  if (chunks.length !== parts) {
    throw new Error(`event ${id}: ${chunks.length} of ${parts} body parts in Deno KV`);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) (out.set(c, off), off += c.byteLength);
  return out;
}
