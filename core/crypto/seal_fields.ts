/**
 * Seal, open and mask secret fields inside JSON configs (signature configs, destination
 * configs, trigger configs). A path is an array of keys, or a dotted string; a `*` segment
 * matches every key of an object or every index of an array, so one static list of paths
 * covers configs of any length. Paths that are absent from a value are skipped.
 */
import type { Sealer } from "../ports.ts";
import { isSealedValue } from "./sealer.ts";

export type FieldPath = string | readonly (string | number)[];

const MASK = "****";

/** A deep copy of `value` with every string at `paths` sealed; already sealed ones are kept. */
export async function sealPaths<T>(
  value: T,
  paths: readonly FieldPath[],
  sealer: Sealer,
): Promise<T> {
  const copy = structuredClone(value);
  const pending: Promise<void>[] = [];
  forEachLeaf(copy, paths, (holder, key, leaf) => {
    if (typeof leaf !== "string" || sealer.isSealed(leaf)) return;
    pending.push(sealer.seal(leaf).then((sealed) => void (holder[key] = sealed)));
  });
  await Promise.all(pending);
  return copy;
}

/** A deep copy of `value` with every sealed string at `paths` opened; clear ones are kept. */
export async function openPaths<T>(
  value: T,
  paths: readonly FieldPath[],
  sealer: Sealer,
): Promise<T> {
  const copy = structuredClone(value);
  const pending: Promise<void>[] = [];
  forEachLeaf(copy, paths, (holder, key, leaf) => {
    if (typeof leaf !== "string" || !sealer.isSealed(leaf)) return;
    pending.push(sealer.open(leaf).then((plain) => void (holder[key] = plain)));
  });
  await Promise.all(pending);
  return copy;
}

/** A deep copy of `value` with every string at `paths` replaced by its mask (see maskSecret). */
export function maskPaths<T>(value: T, paths: readonly FieldPath[]): T {
  const copy = structuredClone(value);
  forEachLeaf(copy, paths, (holder, key, leaf) => {
    if (typeof leaf === "string") holder[key] = maskSecret(leaf);
  });
  return copy;
}

/**
 * What the API shows instead of a secret: "whsec_****abcd". The prefix up to the first `_`
 * (when short, as in whsec_ or sk_) and the last 4 characters are kept only for secrets of at
 * least 16 characters, so at least half stays hidden; shorter ones and sealed ones show "****".
 */
export function maskSecret(secret: string): string {
  if (secret.length < 16 || isSealedValue(secret)) return MASK;
  const underscore = secret.indexOf("_");
  const prefix = underscore > 0 && underscore < 8 ? secret.slice(0, underscore + 1) : "";
  return prefix + MASK + secret.slice(-4);
}

/** True for a value that maskSecret produced (what a client sends back when it kept a secret). */
export function isMasked(value: unknown): boolean {
  return typeof value === "string" && value.includes(MASK);
}

/**
 * A deep copy of `incoming` where every masked string at `paths` is replaced by the stored
 * secret it masks: an update that echoes a masked secret keeps the stored one. `stored` must
 * hold clear values (opened). The stored value at the same place is preferred, else any stored
 * value under the same path whose mask is equal, so reordered or removed rotation secrets still
 * resolve. Throws, naming the field, when a masked value matches no stored secret.
 */
export function keepMaskedPaths<T>(incoming: T, stored: unknown, paths: readonly FieldPath[]): T {
  const copy = structuredClone(incoming);
  for (const path of paths) {
    const candidates: unknown[] = [];
    walk(stored, toSegments(path), 0, [], (_holder, _key, leaf) => void candidates.push(leaf));
    walk(copy, toSegments(path), 0, [], (holder, key, leaf, concrete) => {
      if (!isMasked(leaf)) return;
      const same = valueAt(stored, concrete);
      const match = [same, ...candidates].find((c) =>
        typeof c === "string" && maskSecret(c) === leaf
      );
      if (match === undefined) {
        throw new Error(`${concrete.join(".")} is masked ("${leaf}") but matches no stored secret`);
      }
      holder[key] = match;
    });
  }
  return copy;
}

type Holder = Record<string | number, unknown>;
type Visit = (
  holder: Holder,
  key: string | number,
  leaf: unknown,
  path: (string | number)[],
) => void;

function forEachLeaf(root: unknown, paths: readonly FieldPath[], visit: Visit): void {
  for (const path of paths) walk(root, toSegments(path), 0, [], visit);
}

function walk(
  node: unknown,
  segments: readonly (string | number)[],
  depth: number,
  trail: (string | number)[],
  visit: Visit,
): void {
  if (node === null || typeof node !== "object") return;
  const holder = node as Holder;
  const segment = segments[depth];
  const keys = segment === "*" ? Object.keys(holder) : [String(segment)];
  const last = depth === segments.length - 1;
  for (const key of keys) {
    // own properties only: a path must never reach into the prototype chain
    if (!Object.hasOwn(holder, key)) continue;
    const child = holder[key];
    const here = [...trail, key];
    if (last) visit(holder, key, child, here);
    else walk(child, segments, depth + 1, here, visit);
  }
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Holder)[key];
  }
  return node;
}

function toSegments(path: FieldPath): readonly (string | number)[] {
  const segments = typeof path === "string" ? path.split(".") : path;
  if (segments.length === 0) throw new RangeError("field path must not be empty");
  return segments;
}
