/**
 * A batch of envelopes (with their planned deliveries) as one byte string: the ingest journal's
 * record, and the message that carries the same batch to a store on another thread (a
 * transferable buffer instead of a structured clone of every object). Per envelope: its fields
 * but the body as JSON, then the body bytes; per planned delivery the same, where a body that is
 * the event's own bytes (no pipeline changed it) is written once. Web APIs only.
 *
 *   u32 count, then per envelope:
 *   u32 metaLen, meta (UTF-8 JSON), u32 bodyLen, body, u16 deliveries, then per delivery:
 *   u32 metaLen, meta, i32 bodyLen (-1: the event's body), body
 */
import type { Envelope, NewDelivery } from "../ports.ts";

/**
 * The fields the codec carries, checked against the types: a field added to Envelope or
 * NewDelivery fails `deno check` here until encode and decode carry it (else the journal would
 * drop it silently between the 202 and the store).
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const envelopeFields: Same<
  keyof Envelope,
  | "id"
  | "tenant"
  | "routeId"
  | "source"
  | "receivedAt"
  | "method"
  | "path"
  | "query"
  | "ip"
  | "headers"
  | "body"
  | "dedupKey"
  | "attempts"
  | "planned"
> = true;
const plannedFields: Same<
  keyof NonNullable<Envelope["planned"]>,
  "status" | "error" | "deliveries"
> = true;
const deliveryFields: Same<
  keyof NewDelivery,
  | "id"
  | "eventId"
  | "tenant"
  | "routeId"
  | "destinationId"
  | "body"
  | "headers"
  | "key"
  | "fallbackDestinationId"
  | "nextAt"
> = true;
void [envelopeFields, plannedFields, deliveryFields];

const enc = new TextEncoder();
const dec = new TextDecoder();
const SAME_BODY = -1;

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  ensure(n: number) {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number) {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  i32(v: number) {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }
  u16(v: number) {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** A length-prefixed UTF-8 string, encoded in place (at most 3 bytes per UTF-16 unit). */
  text(s: string) {
    this.ensure(4 + s.length * 3);
    const { written } = enc.encodeInto(s, this.buf.subarray(this.pos + 4));
    this.view.setUint32(this.pos, written);
    this.pos += 4 + written;
  }
}

export function encodeEnvelopes(events: readonly Envelope[]): Uint8Array {
  let size = 4;
  for (const e of events) size += 512 + e.body.length;
  const w = new Writer(size);
  w.u32(events.length);
  for (const e of events) {
    const planned = e.planned;
    w.text(JSON.stringify([
      e.id,
      e.tenant,
      e.routeId,
      e.source,
      e.receivedAt,
      e.method,
      e.path,
      e.query,
      e.ip,
      e.headers,
      e.dedupKey ?? null,
      planned ? [planned.status, planned.error ?? null] : null,
      // only when some were made (fresh events have none): records stay as short as before
      ...(e.attempts ? [e.attempts] : []),
    ]));
    w.u32(e.body.length);
    w.bytes(e.body);
    const ds = planned?.deliveries ?? [];
    if (ds.length > 0xffff) throw new RangeError(`${ds.length} deliveries for one event`);
    w.u16(ds.length);
    for (const d of ds) {
      w.text(JSON.stringify([
        d.id,
        d.destinationId,
        d.fallbackDestinationId ?? null,
        d.headers,
        d.key ?? null,
        d.nextAt,
      ]));
      if (d.body === e.body || sameBytes(d.body, e.body)) w.i32(SAME_BODY);
      else {
        w.i32(d.body.length);
        w.bytes(d.body);
      }
    }
  }
  return w.buf.subarray(0, w.pos);
}

function sameBytes(a: Uint8Array, b: Uint8Array) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The inverse of encodeEnvelopes; bodies are views into `bytes` (no copy). Throws on a
 * truncated or malformed batch. */
export function decodeEnvelopes(bytes: Uint8Array): Envelope[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) {
      throw new RangeError(`envelope batch truncated at byte ${pos} of ${bytes.length}`);
    }
  };
  const u32 = () => (need(4), pos += 4, view.getUint32(pos - 4));
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4));
  const u16 = () => (need(2), pos += 2, view.getUint16(pos - 2));
  const take = (n: number) => (need(n), pos += n, bytes.subarray(pos - n, pos));
  const json = () => JSON.parse(dec.decode(take(u32())));
  const count = u32();
  const out: Envelope[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const [
      id,
      tenant,
      routeId,
      source,
      receivedAt,
      method,
      path,
      query,
      ip,
      headers,
      dedupKey,
      p,
      attempts,
    ] = json();
    const body = take(u32());
    const e: Envelope = {
      id,
      tenant,
      routeId,
      source,
      receivedAt,
      method,
      path,
      query,
      ip,
      headers,
      body,
      dedupKey,
      ...(attempts ? { attempts } : {}),
    };
    const n = u16();
    if (p) {
      const deliveries: NewDelivery[] = new Array(n);
      for (let j = 0; j < n; j++) {
        const [did, destinationId, fallbackDestinationId, dh, key, nextAt] = json();
        const len = i32();
        deliveries[j] = {
          id: did,
          eventId: id,
          tenant,
          routeId,
          destinationId,
          fallbackDestinationId,
          body: len === SAME_BODY ? body : take(len),
          headers: dh,
          key,
          nextAt,
        };
      }
      e.planned = { status: p[0], error: p[1], deliveries };
    } else if (n !== 0) throw new RangeError(`event ${id} has deliveries but was not planned`);
    out[i] = e;
  }
  if (pos !== bytes.length) {
    throw new RangeError(`envelope batch has ${bytes.length - pos} bytes after its last event`);
  }
  return out;
}
