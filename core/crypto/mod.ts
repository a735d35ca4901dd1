/** Sealing secrets at rest and the byte codecs the core shares. */
export { createSealer, isSealedValue, parseEncryptionKey, SEALED_PREFIX } from "./sealer.ts";
export {
  type FieldPath,
  isMasked,
  maskSealed,
  maskSecret,
  openPaths,
  restoreMasked,
  sealPaths,
  type SecretPath,
} from "./seal_fields.ts";
export { decodeBase64, decodeHex, encodeBase64, encodeBase64Url, encodeHex } from "./encoding.ts";
