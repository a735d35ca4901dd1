/**
 * The one rule that decides what a secret is, and the helpers that seal, open and mask by it.
 * It works on any free-form JSON config (destination configs, route signature configs and
 * pipeline stages, trigger configs), by field name, so a new config type needs no list:
 *
 * - a field whose name has a secret word (`secret`, `password`, `pass`, `passphrase`, `token`,
 *   `authorization`, `credential(s)`, `cookie`, or `api`/`access`/`private`/`signing`/
 *   `secret`/`encryption` + `key`), split on `-`, `_`, `.` and case: `client_secret`,
 *   `refresh_token`, `x-api-key`, `Proxy-Authorization`, `sasl_password`, `privateKey`.
 *   Every string under such a field is a secret (`credentials: {...}`). Names that only
 *   point at a secret are not secrets: `token_url`, `secret_header`, `access_key_id`, ...
 *   (a last word of url, uri, endpoint, header, type, name, path, id, field, location, format,
 *   encoding, variable, algorithm, ttl, mode, prefix).
 * - `key` or `keys` in an object that sends it in a `header` or is of type/preset `api_key`.
 * - a URL with a password in it (`amqp://user:pass@host`), under any name.
 * - a value already sealed, whatever its name (a sealed URL no longer looks like one).
 *
 * Header maps need no rule of their own: `headers.authorization` and `headers.x-api-key` are
 * found by name. For routes only the parts that carry credentials are walked (the signature
 * config and `enrich` stages), so a JSON Schema property named `password` is left alone.
 */
import { SEALED_PREFIX } from "../crypto/sealer.ts";
import {
  maskSealed,
  openPaths,
  restoreMasked,
  sealPaths,
  type SecretPath,
} from "../crypto/seal_fields.ts";
import type { Sealer } from "../ports.ts";

export type { SecretPath } from "../crypto/seal_fields.ts";

const SECRET_WORDS = new Set([
  "secret",
  "secrets",
  "password",
  "passwords",
  "passwd",
  "pass",
  "passphrase",
  "pwd",
  "token",
  "tokens",
  "authorization",
  "credential",
  "credentials",
  "cookie",
  "cookies",
  "apikey",
  "privatekey",
]);
const KEY_QUALIFIERS = new Set(["api", "access", "private", "signing", "secret", "encryption"]);
const POINTER_WORDS = new Set([
  "url",
  "uri",
  "endpoint",
  "header",
  "type",
  "name",
  "path",
  "id",
  "field",
  "location",
  "format",
  "encoding",
  "variable",
  "algorithm",
  "ttl",
  "mode",
  "prefix",
]);

function words(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a field of this name holds a secret (see the module comment). */
export function isSecretName(name: string): boolean {
  const w = words(name);
  if (w.length === 0 || POINTER_WORDS.has(w[w.length - 1])) return false;
  if (w.some((x) => SECRET_WORDS.has(x))) return true;
  return w.some((x, i) => (x === "key" || x === "keys") && i > 0 && KEY_QUALIFIERS.has(w[i - 1]));
}

const hasUrlPassword = (v: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(v);

/** `key`/`keys` of an API key: sent in a header, or in an object of type `api_key`. */
function isApiKeyHolder(o: Record<string, unknown>): boolean {
  return typeof o.header === "string" || o.type === "api_key" || o.preset === "api_key";
}

/**
 * The paths of every secret string in `value` (any free-form config), under `roots` only
 * when given (each a path into `value`). Paths are arrays of keys and indexes.
 */
export function secretPaths(value: unknown, roots: readonly SecretPath[] = [[]]): SecretPath[] {
  const out: SecretPath[] = [];
  const walk = (v: unknown, path: SecretPath, secret: boolean) => {
    if (typeof v === "string") {
      if (secret || v.startsWith(SEALED_PREFIX) || hasUrlPassword(v)) out.push(path);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i], secret));
    } else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const apiKey = isApiKeyHolder(o);
      for (const [k, x] of Object.entries(o)) {
        const named = isSecretName(k) || (apiKey && (k === "key" || k === "keys"));
        walk(x, [...path, k], secret || named);
      }
    }
  };
  for (const root of roots) walk(valueAt(value, root), [...root], false);
  return out;
}

/**
 * Where a route keeps credentials: its signature config and its `enrich` stages (top level
 * and per destination). Works on a route spec or a whole route body.
 */
export function routeSecretRoots(spec: unknown): SecretPath[] {
  const s = (spec ?? {}) as Record<string, unknown>;
  const roots: SecretPath[] = [];
  if (s.signature_config && typeof s.signature_config === "object") {
    roots.push(["signature_config"]);
  }
  const stages = (list: unknown, at: SecretPath) => {
    if (!Array.isArray(list)) return;
    list.forEach((st, i) => {
      if (st && typeof st === "object" && (st as { type?: unknown }).type === "enrich") {
        roots.push([...at, i]);
      }
    });
  };
  stages(s.pipeline, ["pipeline"]);
  if (Array.isArray(s.destinations)) {
    s.destinations.forEach((d, i) => {
      if (d && typeof d === "object") {
        stages((d as { pipeline?: unknown }).pipeline, ["destinations", i, "pipeline"]);
      }
    });
  }
  return roots;
}

/** Which part of a config the rule walks: the whole of it, or the parts a function names. */
export type SecretScope = (value: unknown) => readonly SecretPath[];
const whole: SecretScope = () => [[]];

/**
 * Prepares a config for storing: masked values echoed from an earlier answer are replaced by
 * the stored secrets they stand for (`stored` as stored, sealed), then every secret is sealed.
 * Returns the clear config (to validate and use) and the sealed one (to store). Throws an
 * Error whose message starts with the field path when a mask matches no stored secret.
 */
export async function sealSecrets<T>(
  incoming: T,
  stored: unknown,
  sealer: Sealer,
  scope: SecretScope = whole,
): Promise<{ plain: T; sealed: T }> {
  const restored = restoreMasked(
    incoming,
    stored,
    secretPaths(stored, scope(stored)),
    scope(incoming),
  );
  const plain = await openPaths(restored, secretPaths(restored, scope(restored)), sealer);
  const sealed = await sealPaths(restored, secretPaths(plain, scope(plain)), sealer);
  return { plain, sealed };
}

/**
 * The config with every secret opened (for use: publishing, verifying, compiling); a copy, or
 * the value itself when it holds no secret.
 */
export function openSecrets<T>(sealed: T, sealer: Sealer, scope: SecretScope = whole): Promise<T> {
  const paths = secretPaths(sealed, scope(sealed));
  return paths.length ? openPaths(sealed, paths, sealer) : Promise.resolve(sealed);
}

/**
 * The config as API answers show it: every secret replaced by a mask that reveals nothing of
 * it (`****` and a tag derived from the sealed bytes, so an update may echo it back).
 */
export function maskSecrets<T>(sealed: T, scope: SecretScope = whole): T {
  const paths = secretPaths(sealed, scope(sealed));
  return paths.length ? maskSealed(sealed, paths) : sealed;
}

function valueAt(root: unknown, path: SecretPath): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/**
 * The config sealed under `to`: secrets opened with `from`, then every secret the rule finds
 * sealed again, including any still stored in clear (from before the rule knew them).
 * `changed` says whether anything was in clear (with `from === to` nothing else changes).
 */
export async function resealSecrets<T>(
  stored: T,
  from: Sealer,
  to: Sealer,
  scope: SecretScope = whole,
): Promise<{ value: T; changed: boolean }> {
  const paths = secretPaths(stored, scope(stored));
  const plain = await openPaths(stored, paths, from);
  const clearPaths = secretPaths(plain, scope(plain));
  const value = await sealPaths(plain, clearPaths, to);
  const inClear = clearPaths.some((p) => {
    const v = valueAt(stored, p);
    return typeof v === "string" && !from.isSealed(v);
  });
  return { value, changed: inClear || (from !== to && clearPaths.length > 0) };
}
