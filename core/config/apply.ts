/**
 * Applies a config document for one tenant, by name: plan first (the whole file is validated
 * with the same code the API runs for each entity, and every problem is reported at once;
 * nothing is written when there is one), then write. Applying the same file twice changes
 * nothing the second time and says so. With `prune`, what the tenant has and the file does not
 * list is deleted.
 */
import type { ConfigDeps } from "../app_deps.ts";
import type { Destination } from "../model/destination.ts";
import { type Route, routeBody } from "../model/route.ts";
import { type Trigger, triggerBody } from "../model/trigger.ts";
import type { Scope } from "../model/user.ts";
import { newEndpointToken, newId } from "../model/ids.ts";
import { openSecrets, routeSecretRoots, sealSecrets } from "../model/secret_fields.ts";
import { readSettings } from "../model/settings.ts";
import { deepEqual } from "../routing/deep_equal.ts";
import { ApiError, describeZodError } from "../api/errors.ts";
import { sealedConfig } from "../api/destinations_routes.ts";
import { prepareSpec } from "../api/routes_routes.ts";
import { prepareTrigger } from "../api/triggers_routes.ts";
import { findDefaultRoute } from "../ingress/route_cache.ts";
import { allOf } from "./export.ts";
import type { ConfigDocument } from "./document.ts";
import { resolveSecrets, type SecretInput } from "./secrets.ts";

export type EntityKind = "settings" | "destination" | "route" | "trigger";

export interface Change {
  op: "+" | "~" | "-";
  kind: EntityKind;
  name: string;
  /** For "~": the top-level fields that differ. */
  fields?: string[];
}

export class ConfigApplyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigApplyError";
  }
}

export interface ApplyOptions {
  dryRun?: boolean;
  prune?: boolean;
  secrets: Omit<SecretInput, "sealer">;
  /** Told about every entity written, so caches and runners follow (the API's `changed`). */
  changed?(kind: "route" | "destination" | "trigger", id: string): void;
  /** Told the new settings after they were written. */
  settingsChanged?(settings: Record<string, unknown>): void;
}

export interface ApplyResult {
  changes: Change[];
  applied: boolean;
}

/** One line per change: `+ route orders`, `~ destination crm (config)`, or "no changes". */
export function formatPlan(changes: readonly Change[]): string {
  if (changes.length === 0) return "no changes";
  return changes.map((c) =>
    `${c.op} ${c.kind}${c.kind === "settings" ? "" : ` ${c.name}`}${
      c.fields?.length ? ` (${c.fields.join(", ")})` : ""
    }`
  ).join("\n");
}

/** JSON's view of a value: undefined members dropped, so `{a: undefined}` equals `{}`. */
const plainJson = (v: unknown) => v === undefined ? undefined : JSON.parse(JSON.stringify(v));
const same = (a: unknown, b: unknown) => deepEqual(plainJson(a), plainJson(b));

function changedFields(
  want: Record<string, unknown>,
  have: Record<string, unknown>,
): string[] {
  const keys = new Set([...Object.keys(want), ...Object.keys(have)]);
  return [...keys].filter((k) => !same(want[k], have[k])).sort();
}

function indexByName<T extends { name: string }>(
  items: T[],
  kind: string,
  problems: string[],
): Map<string, T> {
  const out = new Map<string, T>();
  const twice = new Set<string>();
  for (const it of items) {
    if (out.has(it.name)) twice.add(it.name);
    out.set(it.name, it);
  }
  for (const n of twice) {
    problems.push(`the tenant has more than one ${kind} named "${n}": rename one first`);
  }
  return out;
}

function duplicates(names: string[], where: string, problems: string[]) {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) problems.push(`${where}[${i}].name: "${n}" appears twice in the file`);
    seen.add(n);
  });
}

const apiMessage = (e: unknown) =>
  e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);

export async function applyConfig(
  deps: ConfigDeps,
  scope: Scope,
  doc: ConfigDocument,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  const { store } = deps;
  const problems: string[] = [];
  const secretInput: SecretInput = { ...opts.secrets, sealer: deps.sealer };
  const now = deps.clock.now();
  const changes: Change[] = [];
  const writes: Array<() => Promise<void>> = []; // settings and destinations
  const triggerWrites: Array<() => Promise<void>> = [];
  const late: Array<() => Promise<void>> = []; // deletions, after everything else
  const notify: Array<() => void> = [];

  duplicates(doc.destinations.map((d) => d.name), "destinations", problems);
  duplicates(doc.routes.map((r) => r.name), "routes", problems);
  duplicates(doc.triggers.map((t) => t.name), "triggers", problems);

  const [haveDests, haveRoutes, haveTriggers] = await Promise.all([
    allOf((s, p) => store.listDestinations(s, p), scope.userId),
    allOf((s, p) => store.listRoutes(s, p), scope.userId),
    allOf((s, p) => store.listTriggers(s, p), scope.userId),
  ]);
  const destByName = indexByName(haveDests, "destination", problems);
  const routeByName = indexByName(haveRoutes, "route", problems);
  const triggerByName = indexByName(haveTriggers, "trigger", problems);

  // settings: the node's, so an admin's only
  if (doc.settings) {
    if (scope.role !== "admin") {
      problems.push("settings: only admins may change the node's settings");
    } else {
      const have = readSettings(await store.getSettings()).settings as Record<string, unknown>;
      const given = await resolveSecrets(doc.settings, have, secretInput, "settings", problems);
      // Broker URLs with a password are secrets here as anywhere: sealed, compared opened.
      let want: Record<string, unknown> = {};
      let sealedWant: Record<string, unknown> = {};
      try {
        const r = await sealSecrets(given as Record<string, unknown>, have, deps.sealer);
        want = r.plain;
        sealedWant = r.sealed;
      } catch (e) {
        problems.push(`settings.${(e as Error).message}`);
      }
      const haveOpen = await openSecrets(have, deps.sealer);
      const patch: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(want)) {
        if (!same(v, haveOpen[k])) patch[k] = sealedWant[k];
      }
      if (opts.prune) { for (const k of Object.keys(have)) if (!(k in want)) patch[k] = null; }
      if (Object.keys(patch).length) {
        changes.push({ op: "~", kind: "settings", name: "", fields: Object.keys(patch).sort() });
        writes.push(async () => {
          const saved = await store.setSettings(patch);
          opts.settingsChanged?.(saved);
        });
      }
    }
  }

  // destinations
  const destId = new Map<string, string>(); // name -> id, after this apply
  for (const d of haveDests) destId.set(d.name, d.id);
  const newDestIds = new Set<string>();
  for (const [i, d] of doc.destinations.entries()) {
    const where = `destinations[${i}] (${d.name})`;
    const stored = destByName.get(d.name);
    // Known by name even when invalid, so what refers to it is not reported as well.
    const id = stored?.id ?? newId("dest");
    destId.set(d.name, id);
    if (!stored) newDestIds.add(id);
    const config = await resolveSecrets(
      d.config,
      stored?.config,
      secretInput,
      `${where}.config`,
      problems,
    );
    let sealed: Record<string, unknown>;
    try {
      sealed = await sealedConfig(deps, scope.role, { ...d, config }, stored);
    } catch (e) {
      problems.push(`${where}: ${apiMessage(e)}`);
      continue;
    }
    const want = {
      type: d.type,
      config: await openSecrets(sealed, deps.sealer),
      retry: d.retry,
      active: d.active,
    };
    if (stored) {
      const have = {
        type: stored.type,
        config: await openSecrets(stored.config, deps.sealer),
        retry: stored.retry,
        active: stored.active,
      };
      const fields = changedFields(want, have);
      if (fields.length === 0) continue;
      changes.push({ op: "~", kind: "destination", name: d.name, fields });
      const next: Destination = {
        ...stored,
        type: d.type,
        config: sealed,
        retry: d.retry,
        active: d.active,
        updatedAt: Math.max(now, stored.updatedAt + 1),
      };
      writes.push(async () => void (await store.updateDestination(scope, next)));
      notify.push(() => opts.changed?.("destination", stored.id));
    } else {
      changes.push({ op: "+", kind: "destination", name: d.name });
      const next: Destination = {
        id,
        owner: scope.userId,
        name: d.name,
        type: d.type,
        config: sealed,
        retry: d.retry,
        active: d.active,
        createdAt: now,
        updatedAt: now,
      };
      writes.push(() => store.createDestination(next));
    }
  }
  const inFile = (names: Iterable<string>) => new Set(names);
  const fileDests = inFile(doc.destinations.map((d) => d.name));
  const destRef = (n: string, where: string): string | undefined => {
    const id = destId.get(n);
    if (!id) problems.push(`${where}: no destination named "${n}" (in the file or stored)`);
    else if (opts.prune && !fileDests.has(n)) {
      problems.push(`${where}: destination "${n}" is not in the file, and --prune deletes it`);
    }
    return id;
  };

  // routes
  const routeId = new Map<string, string>();
  for (const r of haveRoutes) routeId.set(r.name, r.id);
  const newRouteIds = new Set<string>();
  const fileDefault = doc.routes.filter((r) => r.default === true);
  if (fileDefault.length > 1) {
    problems.push(
      `routes: ${fileDefault.map((r) => r.name).join(", ")} are all marked default; one at most`,
    );
  }
  if (fileDefault.length && scope.role !== "admin") {
    problems.push(`routes (${fileDefault[0].name}).default: only admins may set the default route`);
  }
  const routeWrites: { unsetsDefault: boolean; run: () => Promise<void> }[] = [];
  for (const [i, r] of doc.routes.entries()) {
    const where = `routes[${i}] (${r.name})`;
    const stored = routeByName.get(r.name);
    const id = stored?.id ?? newId("route");
    routeId.set(r.name, id);
    if (!stored) newRouteIds.add(id);
    const problemsBefore = problems.length;
    if (r.queue && r.destinations.length === 0) {
      problems.push(
        `${where}.queue: name the rabbitmq destination in "destinations" (the API's queue shorthand creates one, which a file cannot)`,
      );
      continue;
    }
    const entries = r.destinations.map((e, k) => {
      const { destination, fallback, ...extra } = e;
      const id = destRef(destination, `${where}.destinations[${k}].destination`);
      const fb = fallback ? destRef(fallback, `${where}.destinations[${k}].fallback`) : undefined;
      return {
        destination_id: id ?? "dest_missing",
        ...(fallback ? { fallback_destination_id: fb ?? "dest_missing" } : {}),
        ...extra,
      };
    });
    const rules = r.rules?.map((rule, k) =>
      Array.isArray(rule.destinations)
        ? {
          ...rule,
          destinations: rule.destinations.map((n, m) =>
            destRef(String(n), `${where}.rules[${k}].destinations[${m}]`) ?? "dest_missing"
          ),
        }
        : rule
    );
    const { endpoint, destinations: _d, rules: _r, ...rest } = r;
    const raw = await resolveSecrets(
      { ...rest, destinations: entries, ...(rules ? { rules } : {}) },
      stored?.spec ? { ...stored.spec, name: stored.name } : undefined,
      secretInput,
      where,
      problems,
    );
    if (problems.length > problemsBefore) continue; // its references or secrets are wrong
    const parsed = routeBody.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${where}: ${describeZodError(parsed.error)}`);
      continue;
    }
    let spec: Route["spec"];
    try {
      spec = await prepareSpec(deps, scope, parsed.data, stored, newDestIds);
    } catch (e) {
      problems.push(`${where}: ${apiMessage(e)}`);
      continue;
    }
    if (endpoint && endpoint !== stored?.endpoint) {
      const taken = await store.getRouteByEndpoint(endpoint);
      if (taken && taken.id !== stored?.id) {
        problems.push(`${where}.endpoint: ${endpoint} belongs to another route`);
        continue;
      }
    }
    const b = parsed.data;
    const open = (s: unknown) => openSecrets(s, deps.sealer, routeSecretRoots);
    const want = {
      method: b.method,
      active: b.active,
      endpoint: endpoint ?? stored?.endpoint,
      ...(await open(spec)) as Record<string, unknown>,
    };
    if (stored) {
      const have = {
        method: stored.method,
        active: stored.active,
        endpoint: stored.endpoint,
        ...(await open(stored.spec)) as Record<string, unknown>,
      };
      const fields = changedFields(want, have);
      if (fields.length === 0) continue;
      changes.push({ op: "~", kind: "route", name: r.name, fields });
      const next: Route = {
        ...stored,
        method: b.method,
        active: b.active,
        endpoint: endpoint ?? stored.endpoint,
        spec,
        version: stored.version + 1,
        updatedAt: now,
      };
      routeWrites.push({
        unsetsDefault: stored.spec.default === true && b.default !== true,
        run: async () => void (await store.updateRoute(scope, next)),
      });
      notify.push(() => opts.changed?.("route", stored.id));
      if (endpoint && endpoint !== stored.endpoint) {
        notify.push(() => opts.changed?.("route", stored.endpoint));
      }
    } else {
      changes.push({ op: "+", kind: "route", name: r.name });
      const next: Route = {
        id,
        owner: scope.userId,
        name: r.name,
        endpoint: endpoint ?? `/webhook/${newEndpointToken()}`,
        method: b.method,
        spec,
        active: b.active,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      routeWrites.push({ unsetsDefault: false, run: () => store.createRoute(next) });
      notify.push(() => opts.changed?.("route", id));
    }
  }
  if (fileDefault.length === 1) {
    // One default at most on the node: another route's mark must go in this same apply.
    const current = await findDefaultRoute(store);
    const mine = current && current.owner === scope.userId;
    const cleared = mine &&
      (opts.prune && !routeByName.has(current.name)
        ? true
        : doc.routes.some((r) => r.name === current.name && r.default !== true));
    if (current && current.name !== fileDefault[0].name && !(mine && (cleared || opts.prune))) {
      problems.push(
        `routes (${
          fileDefault[0].name
        }).default: route ${current.name} (${current.id}) is the default route; set its default to false in the file first`,
      );
    }
  }
  const fileRoutes = inFile(doc.routes.map((r) => r.name));

  // triggers
  for (const [i, t] of doc.triggers.entries()) {
    const where = `triggers[${i}] (${t.name})`;
    const stored = triggerByName.get(t.name);
    const rid = routeId.get(t.route);
    if (!rid) {
      problems.push(`${where}.route: no route named "${t.route}" (in the file or stored)`);
      continue;
    }
    if (opts.prune && !fileRoutes.has(t.route)) {
      problems.push(
        `${where}.route: route "${t.route}" is not in the file, and --prune deletes it`,
      );
      continue;
    }
    const config = await resolveSecrets(
      t.config,
      stored?.config,
      secretInput,
      `${where}.config`,
      problems,
    );
    const { route: _route, ...fields } = t;
    const parsed = triggerBody.safeParse({ ...fields, route_id: rid, config });
    if (!parsed.success) {
      problems.push(`${where}: ${describeZodError(parsed.error)}`);
      continue;
    }
    let sealed: Record<string, unknown>;
    try {
      sealed = await prepareTrigger(deps, scope.userId, parsed.data, stored, newRouteIds);
    } catch (e) {
      problems.push(`${where}: ${apiMessage(e)}`);
      continue;
    }
    const want = {
      type: t.type,
      route: rid,
      description: t.description ?? null,
      config: await openSecrets(sealed, deps.sealer),
      active: t.active,
    };
    if (stored) {
      const have = {
        type: stored.type,
        route: stored.routeId,
        description: stored.description ?? null,
        config: await openSecrets(stored.config, deps.sealer),
        active: stored.active,
      };
      const fields = changedFields(want, have);
      if (fields.length === 0) continue;
      changes.push({ op: "~", kind: "trigger", name: t.name, fields });
      const next: Trigger = {
        ...stored,
        type: t.type,
        routeId: rid,
        description: t.description ?? null,
        config: sealed,
        active: t.active,
        updatedAt: Math.max(now, stored.updatedAt + 1),
      };
      triggerWrites.push(async () => {
        if (stored.type !== t.type) await store.deleteTriggerState(stored.id);
        await store.updateTrigger(scope, next);
      });
      notify.push(() => opts.changed?.("trigger", stored.id));
    } else {
      const id = newId("trigger");
      changes.push({ op: "+", kind: "trigger", name: t.name });
      const next: Trigger = {
        id,
        owner: scope.userId,
        name: t.name,
        description: t.description ?? null,
        type: t.type,
        routeId: rid,
        config: sealed,
        active: t.active,
        createdAt: now,
        updatedAt: now,
      };
      triggerWrites.push(() => store.createTrigger(next));
      notify.push(() => opts.changed?.("trigger", id));
    }
  }

  if (opts.prune) {
    const fileTriggers = inFile(doc.triggers.map((t) => t.name));
    for (const t of haveTriggers) {
      if (fileTriggers.has(t.name)) continue;
      changes.push({ op: "-", kind: "trigger", name: t.name });
      late.push(async () => void (await store.deleteTrigger(scope, t.id)));
      notify.push(() => opts.changed?.("trigger", t.id));
    }
    for (const r of haveRoutes) {
      if (fileRoutes.has(r.name)) continue;
      changes.push({ op: "-", kind: "route", name: r.name });
      late.push(async () => void (await store.deleteRoute(scope, r.id)));
      notify.push(() => opts.changed?.("route", r.endpoint));
    }
    for (const d of haveDests) {
      if (fileDests.has(d.name)) continue;
      changes.push({ op: "-", kind: "destination", name: d.name });
      late.push(async () => void (await store.deleteDestination(scope, d.id)));
      notify.push(() => opts.changed?.("destination", d.id));
    }
  }

  if (problems.length) throw new ConfigApplyError(problems);
  if (opts.dryRun || changes.length === 0) return { changes, applied: false };

  // Settings, destinations, then routes (the default's old holder first), triggers, deletions.
  for (const w of writes) await w();
  routeWrites.sort((a, b) => Number(b.unsetsDefault) - Number(a.unsetsDefault));
  for (const w of routeWrites) await w.run();
  for (const w of triggerWrites) await w();
  for (const w of late) await w();
  for (const n of notify) n();
  return { changes, applied: true };
}
