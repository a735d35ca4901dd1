/**
 * JSON Schema validation with ajv, one instance per validate stage so compiled validators live
 * and die with their route version. ajv generates code with `new Function`: fine on Deno and
 * the full node, not allowed on Cloudflare Workers (which only ingest and forward).
 */
import { Ajv, type ErrorObject } from "ajv";
import { parseIp } from "../../routing/cidr.ts";

// The common formats, without the ajv-formats package.
const FORMATS: Record<string, RegExp | ((s: string) => boolean)> = {
  "date-time": (s) =>
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  time: /^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: (s) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) && URL.canParse(s),
  url: (s) => URL.canParse(s),
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  ipv4: (s) => !s.includes(":") && parseIp(s) !== null,
  ipv6: (s) => s.includes(":") && parseIp(s) !== null,
  hostname:
    /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
};

export type SchemaCheck = (value: unknown) => string[];

export function compileJsonSchema(schema: Record<string, unknown> | boolean): SchemaCheck {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  for (const [name, f] of Object.entries(FORMATS)) ajv.addFormat(name, f);
  let validate: ReturnType<Ajv["compile"]>;
  try {
    validate = ajv.compile(schema);
  } catch (e) {
    throw new Error(`invalid JSON Schema: ${(e as Error).message}`);
  }
  return (value) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).slice(0, 10).map(describe);
  };
}

function describe(e: ErrorObject): string {
  const at = e.instancePath === "" ? "(root)" : e.instancePath;
  const extra = e.keyword === "additionalProperties"
    ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
    : e.keyword === "enum"
    ? ` ${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)}`
    : "";
  return `${at} ${e.message}${extra}`;
}
