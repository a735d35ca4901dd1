/**
 * Which fields of a free-form config are secrets, found by name so one rule serves every
 * destination type, signature scheme and trigger: `secret`, `secrets[]`, `password`, `token`,
 * `*_key` credentials, `authorization` headers, and URLs that carry a password.
 */
import { SEALED_PREFIX } from "../crypto/sealer.ts";

const SECRET_KEY =
  /^(secret|secrets|password|pass|token|auth_token|access_token|refresh_token|client_secret|secret_access_key|api_key|private_key|credentials|authorization|sasl_password|session_token)$/i;

const hasUrlPassword = (v: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(v);

export function findSecretPaths(value: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[], secret: boolean) => {
    if (typeof v === "string") {
      // A value already sealed is a secret whatever its key: a URL with a password no longer
      // looks like one once sealed, and must still be found to be opened.
      if (secret || v.startsWith(SEALED_PREFIX) || (path.at(-1) === "url" && hasUrlPassword(v))) {
        out.push(path);
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i], secret));
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k], secret || SECRET_KEY.test(k));
    }
  };
  walk(value, [], false);
  return out;
}
