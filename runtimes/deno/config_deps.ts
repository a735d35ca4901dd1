/**
 * The pieces of a node that validating and saving configuration needs, built the same way for
 * the running node and for the CLI (`event-router config apply` works on the store directly):
 * the config defaults, the tenants' address policy from settings, the registries.
 */
import type { ConfigDeps } from "../../core/app_deps.ts";
import type { Sealer } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import { type AddressPolicy, createAddressPolicy } from "../../core/net/policy.ts";
import type { Settings } from "../../core/model/settings.ts";
import { openSecrets } from "../../core/model/secret_fields.ts";
import { PUBLISHERS, tenantPublishers } from "../../adapters/brokers/registry.ts";
import { SOURCES, TENANT_SOURCES } from "../../adapters/sources/registry.ts";
import type { NodeConfig } from "./config.ts";

export type BrokerDefaults = NonNullable<Settings["broker_defaults"]>;

/**
 * One rule for destinations and triggers that name no broker: the admin's broker defaults in
 * settings (opened), else RABBITMQ_URL for rabbitmq. `current` is read on every call, so a
 * settings change applies to what is validated or connected after it.
 */
export function nodeConfigDefaults(
  cfg: Pick<NodeConfig, "rabbitmqUrl">,
  current: () => BrokerDefaults | undefined = () => undefined,
) {
  return (type: string, config: Record<string, unknown>) => {
    const d = current();
    if (type === "rabbitmq" && !config.url) {
      const url = d?.rabbitmq?.url ?? cfg.rabbitmqUrl;
      return url ? { ...config, url } : config;
    }
    if (type === "kafka" && !config.brokers && d?.kafka) {
      return { ...config, brokers: d.kafka.brokers };
    }
    if (type === "redis" && !config.url && !config.address && d?.redis) {
      return { ...config, url: d.redis.url };
    }
    return config;
  };
}

/** The broker defaults with their secrets opened, for use. */
export async function openBrokerDefaults(
  settings: Settings,
  sealer: Sealer,
): Promise<BrokerDefaults | undefined> {
  return settings.broker_defaults ? await openSecrets(settings.broker_defaults, sealer) : undefined;
}

/** The tenants' address policy: the node's switch plus the admin's allow lists in settings. */
export function tenantAddressPolicy(
  cfg: Pick<NodeConfig, "allowPrivateNetworks">,
  settings: Settings,
): AddressPolicy {
  return createAddressPolicy({
    allowPrivate: cfg.allowPrivateNetworks,
    allowHosts: settings.allow_hosts ?? [],
    allowCidrs: settings.allow_cidrs ?? [],
  });
}

export async function configDeps(
  cfg: NodeConfig,
  store: Store,
  sealer: Sealer,
  settings: Settings,
): Promise<ConfigDeps> {
  const brokers = await openBrokerDefaults(settings, sealer);
  return {
    store,
    sealer,
    publishers: PUBLISHERS,
    tenantPublishers: tenantPublishers({ filesRoot: `${cfg.dataDir}/files` }),
    sources: SOURCES,
    tenantSources: TENANT_SOURCES,
    configDefaults: nodeConfigDefaults(cfg, () => brokers),
    addressPolicy: tenantAddressPolicy(cfg, settings),
    clock: { now: () => Date.now() },
  };
}
