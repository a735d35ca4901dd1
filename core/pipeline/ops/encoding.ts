/** Encodings: base64_encode / base64_decode (UTF-8 text), url_encode / url_decode. */
import { z } from "zod";
import { fromBase64, fromUtf8, toBase64, utf8 } from "../bytes.ts";
import { expectString, type OpDef, OpError, textOf, valueOp } from "./op.ts";

export const ENCODING_OPS: OpDef[] = [
  valueOp(
    "base64_encode",
    "Base64-encodes the UTF-8 text of a value (objects as JSON)",
    { url_safe: z.boolean().default(false) },
    (cfg) => (v) => toBase64(utf8(textOf(v)), cfg.url_safe),
  ),
  valueOp(
    "base64_decode",
    "Decodes base64 (standard or URL-safe) into UTF-8 text",
    {},
    () => (v) => {
      try {
        return fromUtf8(fromBase64(expectString(v)));
      } catch (e) {
        if (e instanceof OpError) throw e;
        throw new OpError(`cannot decode ${JSON.stringify(v)}: ${(e as Error).message}`);
      }
    },
  ),
  valueOp(
    "url_encode",
    "Percent-encodes a value for use in a URL component",
    {},
    () => (v) => encodeURIComponent(textOf(v)),
  ),
  valueOp(
    "url_decode",
    'Decodes percent-encoding; with "form": true, "+" is a space too',
    { form: z.boolean().default(false) },
    (cfg) => (v) => {
      const s = expectString(v);
      try {
        return decodeURIComponent(cfg.form ? s.replace(/\+/g, " ") : s);
      } catch {
        throw new OpError(`malformed percent-encoding in ${JSON.stringify(s)}`);
      }
    },
  ),
];
