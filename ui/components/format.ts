/** Times as the pages show them: UTC, to the second, the same on the server and in islands. */
export function fmtTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === "") return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A body for reading: pretty JSON when it parses, the text as it is otherwise. */
export function prettyBody(body: string, encoding?: string): string {
  if (encoding === "base64") return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
