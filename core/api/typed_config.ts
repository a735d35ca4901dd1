/**
 * The one check a destination's or a trigger's config goes through before it is stored: its
 * secrets sealed by the one rule (masked echoes keep the stored value), the type's own schema
 * (with the node's defaults filled in, as at use), and, for tenants, the literal address check.
 * Both APIs and config as code call it, so the three can never judge a config differently.
 */
import { ApiError, describeConfigError } from "./errors.ts";
import { checkLiteralAddresses } from "./address_check.ts";
import type { ConfigDeps } from "../app_deps.ts";
import { sealSecrets } from "../model/secret_fields.ts";

interface ConfigParser {
  parseConfig(config: unknown): unknown;
}

export interface TypedConfig {
  kind: "destination" | "trigger";
  type: string;
  config: Record<string, unknown>;
  /** The stored config on an update: where the body echoes a mask, its sealed value stays. */
  stored?: Record<string, unknown>;
  /** The owner is not an admin: tenant overrides and the address check apply. */
  tenant: boolean;
}

/** The type's factory, or a 400 that lists the types this node has. */
export function requireType<T>(factories: Record<string, T> | undefined, type: string): T {
  const factory = factories?.[type];
  if (factory) return factory;
  const known = Object.keys(factories ?? {}).sort().join(", ") || "none";
  throw new ApiError(
    400,
    "invalid_body",
    `type: ${type} is not available on this node (available: ${known})`,
  );
}

/** Returns the config with its secrets sealed, or throws a 400 naming the field. */
export async function checkedConfig(
  deps: ConfigDeps,
  factories: Record<string, ConfigParser> | undefined,
  tenantFactories: Record<string, ConfigParser> | undefined,
  c: TypedConfig,
): Promise<Record<string, unknown>> {
  const factory = (c.tenant ? tenantFactories?.[c.type] : undefined) ??
    requireType(factories, c.type);
  let secrets;
  try {
    secrets = await sealSecrets(c.config, c.stored, deps.sealer);
  } catch (e) {
    throw new ApiError(400, "invalid_body", `config.${(e as Error).message}`);
  }
  const plain = secrets.plain;
  try {
    factory.parseConfig(deps.configDefaults?.(c.type, plain, c.kind) ?? plain);
  } catch (e) {
    throw new ApiError(400, "invalid_body", describeConfigError(e));
  }
  if (c.tenant) checkLiteralAddresses(deps, plain, ["config"]);
  return secrets.sealed;
}
