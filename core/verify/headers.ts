/** Case-insensitive header lookup over a Headers object or a plain record. */

export type HeaderGetter = (name: string) => string | null;

export function headerGetter(headers: Headers | Record<string, string>): HeaderGetter {
  if (headers instanceof Headers) return (name) => headers.get(name);
  return (name) => {
    const lower = name.toLowerCase();
    // envelopes store lower-cased names, so the direct hit is the common case
    const direct = Object.hasOwn(headers, lower) ? headers[lower] : undefined;
    if (typeof direct === "string") return direct;
    for (const key in headers) {
      if (Object.hasOwn(headers, key) && key.toLowerCase() === lower) return headers[key];
    }
    return null;
  };
}
