/**
 * Secrets in config files. An export never writes one in clear: each is either the sealed
 * value as stored (opens only with this node's ENCRYPTION_KEY) or an `${ENV_NAME}` reference
 * the applier's environment fills in. On apply:
 *
 * - `${NAME}` (upper case, anywhere in a string) is replaced from the environment given; the
 *   API has none (it must not hand a tenant the node's own variables), so there it is an error.
 * - a sealed value identical to the one stored at the same place keeps it (re-applying an
 *   export changes nothing); any other sealed value is opened only for an admin applying on
 *   the node (the CLI), since opening a copied ciphertext for a tenant would leak it.
 * - anything else is a new secret, sealed as the API seals it.
 */
import { isSealedValue } from "../crypto/sealer.ts";
import { maskSecret } from "../crypto/seal_fields.ts";
import type { Sealer } from "../ports.ts";
import type { SecretPath } from "../model/secret_fields.ts";

export const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

export interface SecretInput {
  /** The applier's environment (CLI); null: references are refused (API). */
  env: Record<string, string | undefined> | null;
  /** Whether a sealed value that is not the stored one may be opened (an admin on the node). */
  openSealed: boolean;
  sealer: Sealer;
}

/** A name for the variable that holds the secret at `path` of the entity `kind`/`name`. */
export function envName(kind: string, name: string, path: SecretPath): string {
  return [kind, name, ...path.map(String)].join("_").toUpperCase().replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

function at(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const k of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[k];
  }
  return node;
}

/**
 * `value` (one entity's config, as the file has it) with references filled in and sealed
 * values resolved; each problem is pushed as `where.path: message`.
 */
export async function resolveSecrets<T>(
  value: T,
  stored: unknown,
  input: SecretInput,
  where: string,
  problems: string[],
): Promise<T> {
  const visit = async (node: unknown, path: (string | number)[]): Promise<unknown> => {
    if (typeof node === "string") {
      const field = [where, ...path].join(".");
      if (isSealedValue(node)) {
        if (at(stored, path) === node) return maskSecret(node); // the stored one: kept
        if (!input.openSealed) {
          problems.push(
            `${field}: a sealed value is accepted only when it is the one stored there; send the secret itself or an \${ENV} reference`,
          );
          return node;
        }
        try {
          return await input.sealer.open(node);
        } catch {
          problems.push(`${field}: sealed under another ENCRYPTION_KEY: cannot be opened here`);
          return node;
        }
      }
      if (!node.includes("${")) return node;
      return node.replace(ENV_REF, (ref, varName: string) => {
        if (!input.env) {
          problems.push(
            `${field}: ${ref} is an environment reference: the API does not read the node's environment; fill it in before sending, or apply with the CLI`,
          );
          return ref;
        }
        const v = input.env[varName];
        if (v === undefined) {
          problems.push(`${field}: ${ref} is not set in the environment`);
          return ref;
        }
        return v;
      });
    }
    if (Array.isArray(node)) {
      const out = [];
      for (const [i, x] of node.entries()) out.push(await visit(x, [...path, i]));
      return out;
    }
    if (node && typeof node === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(node)) out[k] = await visit(x, [...path, k]);
      return out;
    }
    return node;
  };
  return await visit(value, []) as T;
}

/** `value` with the strings at `paths` replaced by `${NAME}` references; the names used. */
export function referenceSecrets<T>(
  value: T,
  paths: readonly SecretPath[],
  nameOf: (path: SecretPath) => string,
): { value: T; names: string[] } {
  const copy = structuredClone(value);
  const names: string[] = [];
  for (const path of paths) {
    const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown> | undefined;
    const key = path[path.length - 1];
    if (!parent || typeof parent[key] !== "string") continue;
    const n = nameOf(path);
    names.push(n);
    parent[key] = `\${${n}}`;
  }
  return { value: copy, names };
}
