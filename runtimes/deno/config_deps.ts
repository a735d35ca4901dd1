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
import { PUBLISHERS, tenantPublishers } from "../../adapters/brokers/registry.ts";
import { SOURCES } from "../../adapters/sources/registry.ts";
import type { NodeConfig } from "./config.ts";

/** One rule for destinations and triggers: a rabbitmq one without `url` uses RABBITMQ_URL. */
export function nodeConfigDefaults(cfg: Pick<NodeConfig, "rabbitmqUrl">) {
  return (type: string, config: Record<string, unknown>) =>
    type === "rabbitmq" && !config.url && cfg.rabbitmqUrl
      ? { ...config, url: cfg.rabbitmqUrl }
      : config;
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

export function configDeps(
  cfg: NodeConfig,
  store: Store,
  sealer: Sealer,
  settings: Settings,
): ConfigDeps {
  return {
    store,
    sealer,
    publishers: PUBLISHERS,
    tenantPublishers: tenantPublishers({ filesRoot: `${cfg.dataDir}/files` }),
    sources: SOURCES,
    configDefaults: nodeConfigDefaults(cfg),
    addressPolicy: tenantAddressPolicy(cfg, settings),
    clock: { now: () => Date.now() },
  };
}
