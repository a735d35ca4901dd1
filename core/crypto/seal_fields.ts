/**
 * Seal, open and mask secret fields inside JSON configs (signature configs, destination
 * configs, trigger configs). A path is an array of keys, or a dotted string; a `*` segment
 * matches every key of an object or every index of an array, so one static list of paths
 * covers configs of any length. Paths that are absent from a value are skipped.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Sealer } from "../ports.ts";
import { isSealedValue } from "./sealer.ts";

export type FieldPath = string | readonly (string | number)[];
/** A concrete path: keys and array indexes. */
export type SecretPath = (string | number)[];

const MASK = "****";
const MASKED = /^\*{4}([0-9a-f]{8})?$/;
const utf8 = new TextEncoder();

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

/**
 * What an API answer shows instead of a secret: `****` followed, for a sealed value, by 8 hex
 * characters of SHA-256 over the sealed text. The tag is computed from the ciphertext (random
 * IV), so it says nothing about the secret, yet stays the same until the value is sealed
 * again: an update that echoes it back names the stored secret it stands for. A secret stored
 * in clear (before it was sealed) shows as plain `****`.
 */
export function maskSecret(value: string): string {
  if (!isSealedValue(value)) return MASK;
  const tag = sha256(utf8.encode(value)).subarray(0, 4);
  return MASK + Array.from(tag, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** True for a value that maskSecret produced (what a client sends back when it kept a secret). */
export function isMasked(value: unknown): value is string {
  return typeof value === "string" && MASKED.test(value);
}

/** A deep copy of `value` with every string at `paths` replaced by its mask (maskSecret). */
export function maskSealed<T>(value: T, paths: readonly FieldPath[]): T {
  const copy = structuredClone(value);
  forEachLeaf(copy, paths, (holder, key, leaf) => {
    if (typeof leaf === "string") holder[key] = maskSecret(leaf);
  });
  return copy;
}

/**
 * A deep copy of `incoming` where every masked string under `roots` is replaced by the stored
 * secret it masks (`stored` as stored: sealed; `storedPaths` its secrets). A tagged mask is
 * matched by its tag, preferring the same place, so reordered rotation secrets still resolve;
 * a plain `****` keeps the stored secret at the same place. Throws, naming the field, when a
 * mask matches nothing, and when `incoming` carries a sealed value itself: sealed values only
 * ever come from the store, never from a client (else a copied ciphertext would be opened).
 */
export function restoreMasked<T>(
  incoming: T,
  stored: unknown,
  storedPaths: readonly FieldPath[],
  roots: readonly SecretPath[] = [[]],
): T {
  const copy = structuredClone(incoming);
  const candidates: string[] = [];
  forEachLeaf(stored, storedPaths, (_h, _k, leaf) => {
    if (typeof leaf === "string") candidates.push(leaf);
  });
  const secretAt = new Set(storedPaths.map((p) => toSegments(p).join("\u0000")));
  const visit = (node: unknown, path: SecretPath) => {
    if (node === null || typeof node !== "object") return;
    const holder = node as Holder;
    for (const key of Object.keys(holder)) {
      const leaf = holder[key];
      const here = [...path, Array.isArray(node) ? Number(key) : key];
      if (typeof leaf !== "string") {
        visit(leaf, here);
        continue;
      }
      if (isSealedValue(leaf)) {
        throw new Error(
          `${here.join(".")}: a sealed value cannot be sent; send the secret or its mask`,
        );
      }
      if (!isMasked(leaf)) continue;
      const same = valueAt(stored, here);
      const sameIsSecret = secretAt.has(here.join("\u0000")) && typeof same === "string";
      const match = leaf === MASK
        ? (sameIsSecret ? same : undefined)
        : [sameIsSecret ? same : undefined, ...candidates].find((c) =>
          typeof c === "string" && maskSecret(c) === leaf
        );
      if (match === undefined) {
        throw new Error(`${here.join(".")}: is masked ("${leaf}") but matches no stored secret`);
      }
      holder[key] = match;
    }
  };
  for (const root of roots) visit(valueAt(copy, root), [...root]);
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
