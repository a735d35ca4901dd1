/**
 * Dotted JSON paths: `order.items[0].sku`, `order.items.0.sku`, `a["key.with.dots"]`, and the
 * wildcard `items[*].sku` (or `items.*.sku`). Paths are parsed once at compile time into
 * segments so per-event access is a plain loop.
 */

/** Marks a `[*]` / `.*` segment: every element of an array or every value of an object. */
export const WILDCARD: unique symbol = Symbol("wildcard");
export type Segment = string | number | typeof WILDCARD;

/** Thrown for a malformed path; the message names the path and the position. */
export class PathError extends Error {
  constructor(path: string, reason: string) {
    super(`invalid path "${path}": ${reason}`);
    this.name = "PathError";
  }
}

/** Parses a path; "" and "$" mean the root itself (no segments). */
export function parsePath(path: string): Segment[] {
  if (path === "" || path === "$") return [];
  const segs: Segment[] = [];
  let i = 0;
  let expectSegment = true;
  while (i < path.length) {
    const ch = path[i];
    if (ch === ".") {
      if (expectSegment) throw new PathError(path, `empty segment at ${i}`);
      expectSegment = true;
      i++;
      continue;
    }
    if (ch === "[") {
      const close = findClose(path, i);
      const inner = path.slice(i + 1, close).trim();
      if (inner === "*") segs.push(WILDCARD);
      else if (/^\d+$/.test(inner)) segs.push(Number(inner));
      else if (/^(["']).*\1$/.test(inner)) segs.push(inner.slice(1, -1));
      else throw new PathError(path, `bad index "[${inner}]" at ${i}`);
      i = close + 1;
      expectSegment = false;
      continue;
    }
    if (!expectSegment) throw new PathError(path, `expected "." or "[" at ${i}`);
    let j = i;
    while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
    const name = path.slice(i, j);
    segs.push(name === "*" ? WILDCARD : name);
    i = j;
    expectSegment = false;
  }
  if (expectSegment) throw new PathError(path, "ends with an empty segment");
  return segs;
}

function findClose(path: string, open: number): number {
  const quote = path[open + 1];
  if (quote === '"' || quote === "'") {
    const end = path.indexOf(quote, open + 2);
    if (end < 0 || path[end + 1] !== "]") throw new PathError(path, `unclosed "[" at ${open}`);
    return end + 1;
  }
  const close = path.indexOf("]", open);
  if (close < 0) throw new PathError(path, `unclosed "[" at ${open}`);
  return close;
}

export function hasWildcard(segs: readonly Segment[]): boolean {
  return segs.includes(WILDCARD);
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === "object" && v !== null;
}

function step(node: unknown, seg: string | number): unknown {
  if (Array.isArray(node)) {
    const idx = typeof seg === "number" ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
    return idx >= 0 ? node[idx] : undefined;
  }
  if (isContainer(node) && Object.hasOwn(node, seg)) return (node as Record<string, unknown>)[seg];
  return undefined;
}

/** The value at a path without wildcards; undefined when any step is missing. */
export function getPath(root: unknown, segs: readonly Segment[]): unknown {
  let node = root;
  for (const seg of segs) {
    if (seg === WILDCARD) return getAll(root, segs);
    node = step(node, seg);
    if (node === undefined) return undefined;
  }
  return node;
}

/** Every value a path reaches; wildcards fan out, missing branches contribute nothing. */
export function getAll(root: unknown, segs: readonly Segment[]): unknown[] {
  const out: unknown[] = [];
  walk(root, segs, 0, (v) => out.push(v));
  return out;
}

function walk(node: unknown, segs: readonly Segment[], i: number, fn: (v: unknown) => void) {
  if (node === undefined) return;
  if (i === segs.length) return fn(node);
  const seg = segs[i];
  if (seg === WILDCARD) {
    if (Array.isArray(node)) { for (const v of node) walk(v, segs, i + 1, fn); }
    else if (isContainer(node)) { for (const v of Object.values(node)) walk(v, segs, i + 1, fn); }
    return;
  }
  walk(step(node, seg), segs, i + 1, fn);
}

/** Concrete (wildcard-free) paths that exist under root for a path with wildcards. */
export function expandPaths(root: unknown, segs: readonly Segment[]): Segment[][] {
  const out: Segment[][] = [];
  const rec = (node: unknown, i: number, prefix: Segment[]) => {
    if (node === undefined) return;
    if (i === segs.length) return void out.push(prefix);
    const seg = segs[i];
    if (seg === WILDCARD) {
      if (Array.isArray(node)) node.forEach((v, k) => rec(v, i + 1, [...prefix, k]));
      else if (isContainer(node)) {
        for (const [k, v] of Object.entries(node)) rec(v, i + 1, [...prefix, k]);
      }
      return;
    }
    rec(step(node, seg), i + 1, [...prefix, seg]);
  };
  rec(root, 0, []);
  return out;
}

const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Sets a value, creating objects (or arrays for numeric `[n]` segments) on the way, and returns
 * the new root (a different value only when segs is empty). Prototype keys are refused so a
 * user-supplied path cannot pollute Object.prototype.
 */
export function setPath(root: unknown, segs: readonly Segment[], value: unknown): unknown {
  if (segs.length === 0) return value;
  if (!isContainer(root)) root = typeof segs[0] === "number" ? [] : {};
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg === WILDCARD) throw new Error("cannot set through a wildcard path");
    if (typeof seg === "string" && UNSAFE_KEYS.has(seg)) {
      throw new Error(`refusing to set the key "${seg}"`);
    }
    const key = Array.isArray(node) && typeof seg === "string" && /^\d+$/.test(seg)
      ? Number(seg)
      : seg;
    if (i === segs.length - 1) {
      node[key] = value;
      break;
    }
    let next = node[key];
    if (!isContainer(next)) {
      next = typeof segs[i + 1] === "number" ? [] : {};
      node[key] = next;
    }
    node = next as Record<string | number, unknown>;
  }
  return root;
}

/** Removes the value at a path; returns whether something was removed. */
export function deletePath(root: unknown, segs: readonly Segment[]): boolean {
  if (segs.length === 0) return false;
  const parent = getPath(root, segs.slice(0, -1));
  const last = segs[segs.length - 1];
  if (last === WILDCARD || !isContainer(parent)) return false;
  if (Array.isArray(parent)) {
    const idx = typeof last === "number" ? last : /^\d+$/.test(last) ? Number(last) : -1;
    if (idx < 0 || idx >= parent.length) return false;
    parent.splice(idx, 1);
    return true;
  }
  if (!Object.hasOwn(parent, last)) return false;
  delete (parent as Record<string, unknown>)[last];
  return true;
}

/** Renders segments back to a path string, for messages and for expanded wildcard paths. */
export function formatPath(segs: readonly Segment[]): string {
  let out = "";
  for (const seg of segs) {
    if (seg === WILDCARD) out += "[*]";
    else if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[^.[\]"']+$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `["${seg}"]`;
  }
  return out;
}
