/**
 * One tenant's configuration as a document: destinations, routes and triggers by name (sorted,
 * so two exports of the same configuration are the same text), and the node's settings when
 * the tenant is an admin. Secrets are sealed as stored, or `${ENV}` references (secrets.ts).
 */
import type { Store } from "../store.ts";
import type { Sealer } from "../ports.ts";
import type { Page, PageQuery } from "../model/page.ts";
import type { Destination } from "../model/destination.ts";
import type { Route } from "../model/route.ts";
import type { Trigger } from "../model/trigger.ts";
import type { Scope } from "../model/user.ts";
import { readSettings } from "../model/settings.ts";
import { routeSecretRoots, type SecretPath, secretPaths } from "../model/secret_fields.ts";
import { sealPaths } from "../crypto/seal_fields.ts";
import { envName, referenceSecrets } from "./secrets.ts";

export type SecretsMode = "sealed" | "env";

export interface ExportResult {
  document: Record<string, unknown>;
  /** The variables an `env` export refers to, each with where it goes. */
  variables: { name: string; where: string }[];
}

/** Every entity of `list` for the owner (all pages). */
export async function allOf<T>(
  list: (scope: Scope, page: PageQuery) => Promise<Page<T>>,
  userId: string,
): Promise<T[]> {
  const own: Scope = { userId, role: "user" }; // an admin's export is its own, like a tenant's
  const out: T[] = [];
  for (let offset = 0;; offset += 500) {
    const page = await list(own, { limit: 500, offset });
    out.push(...page.items);
    if (page.items.length < 500) return out;
  }
}

const byName = <T extends { name: string }>(a: T, b: T) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export async function exportConfig(
  deps: { store: Store; sealer: Sealer },
  scope: Scope,
  mode: SecretsMode = "sealed",
): Promise<ExportResult> {
  const { store, sealer } = deps;
  const [destinations, routes, triggers] = await Promise.all([
    allOf((s, p) => store.listDestinations(s, p), scope.userId),
    allOf((s, p) => store.listRoutes(s, p), scope.userId),
    allOf((s, p) => store.listTriggers(s, p), scope.userId),
  ]);
  const destName = new Map(destinations.map((d) => [d.id, d.name]));
  const routeName = new Map(routes.map((r) => [r.id, r.name]));
  const variables: ExportResult["variables"] = [];

  /** Seals what is stored in clear (from before the rule knew it), or writes references. */
  const secretsOut = async <T>(
    value: T,
    paths: SecretPath[],
    kind: string,
    name: string,
  ): Promise<T> => {
    if (mode === "sealed") return await sealPaths(value, paths, sealer);
    const r = referenceSecrets(value, paths, (p) => envName(kind, name, p));
    r.names.forEach((n, i) =>
      variables.push({ name: n, where: `${kind} ${name}: ${paths[i].join(".")}` })
    );
    return r.value;
  };

  const doc: Record<string, unknown> = { version: 1 };
  if (scope.role === "admin") {
    const { settings } = readSettings(await store.getSettings());
    if (Object.keys(settings).length) {
      doc.settings = await secretsOut(settings, secretPaths(settings), "settings", "");
    }
  }
  doc.destinations = await Promise.all(
    destinations.sort(byName).map((d) => exportDestination(d, secretsOut)),
  );
  doc.routes = await Promise.all(
    routes.sort(byName).map((r) => exportRoute(r, destName, secretsOut)),
  );
  doc.triggers = await Promise.all(
    triggers.sort(byName).map(async (t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      type: t.type,
      route: routeName.get(t.routeId) ?? t.routeId,
      config: await secretsOut(t.config, secretPaths(t.config), "trigger", t.name),
      ...(t.active ? {} : { active: false }),
    })),
  );
  return { document: doc, variables };
}

type SecretsOut = <T>(value: T, paths: SecretPath[], kind: string, name: string) => Promise<T>;

async function exportDestination(d: Destination, secretsOut: SecretsOut) {
  return {
    name: d.name,
    type: d.type,
    config: await secretsOut(d.config, secretPaths(d.config), "destination", d.name),
    ...(d.retry ? { retry: d.retry } : {}),
    ...(d.active ? {} : { active: false }),
  };
}

async function exportRoute(r: Route, destName: Map<string, string>, secretsOut: SecretsOut) {
  const spec = await secretsOut(
    r.spec,
    secretPaths(r.spec, routeSecretRoots(r.spec)),
    "route",
    r.name,
  ) as Record<string, unknown>;
  const name = (id: unknown) => destName.get(String(id)) ?? String(id);
  const { destinations, rules, default: isDefault, ...rest } = spec as {
    destinations?: Record<string, unknown>[];
    rules?: Record<string, unknown>[];
    default?: boolean;
  } & Record<string, unknown>;
  const out: Record<string, unknown> = {
    name: r.name,
    method: r.method,
    endpoint: r.endpoint,
  };
  if (isDefault) out.default = true;
  out.destinations = (destinations ?? []).map((e) => {
    const { destination_id, fallback_destination_id, ...extra } = e;
    return {
      destination: name(destination_id),
      ...(fallback_destination_id ? { fallback: name(fallback_destination_id) } : {}),
      ...extra,
    };
  });
  if (rules) {
    out.rules = rules.map((rule) =>
      Array.isArray(rule.destinations)
        ? { ...rule, destinations: rule.destinations.map(name) }
        : rule
    );
  }
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) out[k] = v;
  if (!r.active) out.active = false;
  return out;
}

export type { Destination, Route, Trigger };
