/**
 * Turns the shaped event into delivery bytes and headers. When no stage could have changed the
 * body, the bytes are forwarded exactly as received (signatures and formatting survive);
 * otherwise strings go as UTF-8 text and everything else as JSON.
 */
import type { Chosen } from "../routing/select.ts";
import { utf8 } from "./bytes.ts";
import type { Working } from "./ref.ts";
import type { OutDelivery } from "./types.ts";

export function encodeBody(
  w: Working,
  reshaped: boolean,
): { body: Uint8Array; contentType: string } {
  const original = w.event.headers["content-type"];
  if (!reshaped && w.event.rawBody) {
    return { body: w.event.rawBody, contentType: original ?? "application/octet-stream" };
  }
  if (typeof w.body === "string") {
    return {
      body: utf8(w.body),
      contentType: !reshaped && original ? original : "text/plain; charset=utf-8",
    };
  }
  if (w.body instanceof Uint8Array) {
    return { body: w.body, contentType: "application/octet-stream" };
  }
  return { body: utf8(JSON.stringify(w.body ?? null)), contentType: "application/json" };
}

export function encodeDelivery(
  w: Working,
  target: Chosen,
  reshaped: boolean,
  encoded = encodeBody(w, reshaped),
): OutDelivery {
  const headers = { ...w.headers };
  headers["content-type"] ??= encoded.contentType;
  const d: OutDelivery = { destinationId: target.destinationId, body: encoded.body, headers };
  if (target.fallbackDestinationId) d.fallbackDestinationId = target.fallbackDestinationId;
  if (w.key !== undefined) d.key = w.key;
  return d;
}
