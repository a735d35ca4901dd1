/** Format conversions: json_to_xml, xml_to_json, form_to_json, csv_to_json. */
import { z } from "zod";
import { compileRef } from "../ref.ts";
import { buildXml, parseCsv, parseForm, parseXml } from "../parse_body.ts";
import { expectString, type OpDef, OpError, valueOp } from "./op.ts";

const guard = <T>(what: string, fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OpError) throw e;
    throw new OpError(`${what}: ${(e as Error).message}`);
  }
};

const contentType = compileRef("$headers.content-type");

/** When the whole body becomes XML or JSON text, the delivery's content type follows. */
function retype(
  def: OpDef,
  type: string,
): OpDef {
  const compile = def.compile as (cfg: { path: string; to?: string }, ctx: never) => ReturnType<
    OpDef["compile"]
  >;
  return {
    ...def,
    compile: ((cfg: { path: string; to?: string }, ctx: never) => {
      const fn = compile(cfg, ctx);
      const target = cfg.to ?? cfg.path;
      if (target !== "$" && target !== "") return fn;
      return (w, env) => {
        fn(w, env);
        contentType.set(w, type);
      };
    }) as OpDef["compile"],
  };
}

export const FORMAT_OPS: OpDef[] = [
  retype(
    valueOp(
      "json_to_xml",
      "Serialises a value to XML (attributes as @_name keys)",
      { root: z.string().min(1).optional(), declaration: z.boolean().default(false) },
      (cfg) => (v) => guard("cannot build XML", () => buildXml(v, cfg.root, cfg.declaration)),
    ),
    "application/xml",
  ),
  retype(
    valueOp(
      "xml_to_json",
      "Parses XML text into an object (attributes as @_name, values as strings)",
      {},
      () => (v) => guard("invalid XML", () => parseXml(expectString(v))),
    ),
    "application/json",
  ),
  retype(
    valueOp(
      "form_to_json",
      "Parses application/x-www-form-urlencoded text (repeated keys become arrays)",
      {},
      () => (v) => parseForm(expectString(v)),
    ),
    "application/json",
  ),
  retype(
    valueOp(
      "csv_to_json",
      "Parses CSV text: objects keyed by the header row, or arrays of fields",
      { delimiter: z.string().length(1).default(","), header: z.boolean().default(true) },
      (cfg) => (v) =>
        guard("invalid CSV", () => parseCsv(expectString(v), cfg.delimiter, cfg.header)),
    ),
    "application/json",
  ),
];
