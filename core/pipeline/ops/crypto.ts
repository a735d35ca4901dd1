/** Hashes and HMAC through Web Crypto (crypto.subtle), so they run on every runtime. */
import { z } from "zod";
import { toBase64, toHex, utf8 } from "../bytes.ts";
import { asyncValueOp, type OpDef, textOf } from "./op.ts";

const ALGORITHMS = { sha1: "SHA-1", sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };
const Algorithm = z.enum(["sha1", "sha256", "sha384", "sha512"]).default("sha256");
const Encoding = z.enum(["hex", "base64", "base64url"]).default("hex");

function encode(buf: ArrayBuffer, encoding: "hex" | "base64" | "base64url"): string {
  const bytes = new Uint8Array(buf);
  return encoding === "hex" ? toHex(bytes) : toBase64(bytes, encoding === "base64url");
}

export const CRYPTO_OPS: OpDef[] = [
  asyncValueOp(
    "hash",
    "Hashes the UTF-8 text of a value (sha1, sha256, sha384, sha512)",
    { algorithm: Algorithm, encoding: Encoding },
    (cfg) => async (v) =>
      encode(
        await crypto.subtle.digest(ALGORITHMS[cfg.algorithm], utf8(textOf(v))),
        cfg.encoding,
      ),
  ),
  asyncValueOp(
    "hmac",
    "Signs the UTF-8 text of a value with HMAC and a secret",
    { algorithm: Algorithm, encoding: Encoding, secret: z.string().min(1) },
    (cfg) => {
      // Imported once per route version, on first use.
      let key: Promise<CryptoKey> | undefined;
      return async (v) => {
        key ??= crypto.subtle.importKey(
          "raw",
          utf8(cfg.secret),
          { name: "HMAC", hash: ALGORITHMS[cfg.algorithm] },
          false,
          ["sign"],
        );
        return encode(await crypto.subtle.sign("HMAC", await key, utf8(textOf(v))), cfg.encoding);
      };
    },
  ),
];
