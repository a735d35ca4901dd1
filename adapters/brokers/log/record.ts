/**
 * The JSON record the `log` and `file` publishers write for a message:
 * `{ts, delivery_id, event_id, attempt, key?, headers, body, body_encoding}` where `body` is
 * the text when the bytes are valid UTF-8 (JSON or not), else base64 with
 * `body_encoding: "base64"`.
 */
import type { Outgoing } from "../../../core/ports.ts";
import { encodeBase64 } from "../../../core/crypto/encoding.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const enc = new TextEncoder();

export interface MessageRecord {
  ts: string;
  delivery_id: string;
  event_id: string;
  attempt: number;
  key?: string;
  headers: Record<string, string>;
  body: string;
  body_encoding: "utf8" | "base64";
}

export function messageRecord(m: Outgoing, now: Date): MessageRecord {
  let body: string;
  let encoding: "utf8" | "base64" = "utf8";
  try {
    body = utf8.decode(m.body);
  } catch {
    body = encodeBase64(m.body);
    encoding = "base64";
  }
  return {
    ts: now.toISOString(),
    delivery_id: m.id,
    event_id: m.eventId,
    attempt: m.attempt,
    ...(m.key ? { key: m.key } : {}),
    headers: m.headers,
    body,
    body_encoding: encoding,
  };
}

/** The records of a batch as one buffer: one JSON document per line (indented if pretty). */
export function encodeRecords(batch: readonly Outgoing[], now: Date, pretty = false): Uint8Array {
  const text = batch.map((m) => JSON.stringify(messageRecord(m, now), null, pretty ? 2 : 0))
    .join("\n");
  return enc.encode(batch.length ? text + "\n" : "");
}
