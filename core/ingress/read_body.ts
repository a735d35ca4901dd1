/** Reads a request's (or response's) body up to `limit` bytes; stops reading as soon as the
 * limit is passed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body exceeds the limit of ${limit} bytes`);
  }
}

export async function readBodyLimited(
  req: Request | Response,
  limit: number,
): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new BodyTooLargeError(limit);
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) (out.set(c, off), off += c.byteLength);
  return out;
}
