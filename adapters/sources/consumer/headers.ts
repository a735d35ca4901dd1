/**
 * Broker metadata as event headers: every value a string the route's rules can match, bytes
 * as a view (no copy) of the client's buffer.
 */
const utf8 = new TextDecoder();

/** A header/property/attribute value as text: bytes as UTF-8, objects as JSON; null drops it. */
export function headerText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (Array.isArray(v)) return v.map((x) => headerText(x) ?? "").join(",");
  if (typeof v === "object") {
    // amqplib hands typed header values as {"!": type, value}.
    const typed = v as { "!"?: unknown; value?: unknown };
    if ("!" in typed && "value" in typed) return headerText(typed.value);
    return JSON.stringify(v);
  }
  return String(v);
}

/** Copies the text values of `from` into `into` (skipping empty ones). */
export function addHeaders(
  into: Record<string, string>,
  from: Record<string, unknown> | null | undefined,
): void {
  if (!from) return;
  for (const [k, v] of Object.entries(from)) {
    const text = headerText(v);
    if (text !== undefined) into[k.toLowerCase()] = text;
  }
}

/** A Uint8Array over the same memory as `b` (a Node Buffer is one already, but a subclass). */
export function bytesOf(b: Uint8Array | null | undefined): Uint8Array {
  if (!b) return new Uint8Array(0);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
