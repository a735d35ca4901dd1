/**
 * The seed README's `filters` shorthand, kept working:
 * `{"headers": {"X-GitHub-Event": "push"}, "body_contains": ["repository"]}` matches when every
 * listed header equals its value exactly (names case-insensitive, as HTTP has them) and the raw
 * body contains every listed string. An empty or absent `filters` matches everything.
 */
import { bodyText, type RoutingEvent } from "./event.ts";
import type { Predicate } from "./condition.ts";
import type { Filters } from "./schema.ts";

export function compileFilters(filters: Filters | undefined): Predicate {
  const headers = Object.entries(filters?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const needles = filters?.body_contains ?? [];
  if (headers.length === 0 && needles.length === 0) return () => true;
  return (e: RoutingEvent) => {
    for (const [name, value] of headers) if (e.headers[name] !== value) return false;
    if (needles.length === 0) return true;
    const text = bodyText(e);
    return needles.every((n) => text.includes(n));
  };
}
