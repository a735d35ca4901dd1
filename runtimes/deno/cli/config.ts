/**
 * `event-router config export|apply`: config as code on the configured store, with the same
 * code as `/api/config/*` (core/config/). The CLI is the operator on the node: it fills in
 * `${ENV}` references from its environment and may open values sealed under this node's key.
 * A running node picks the changes up within seconds (its caches re-read the store).
 */
import type { Store } from "../../../core/store.ts";
import type { Scope } from "../../../core/model/user.ts";
import { createSealer } from "../../../core/crypto/sealer.ts";
import { readSettings } from "../../../core/model/settings.ts";
import {
  ConfigDocumentError,
  parseConfigDocument,
  stringifyConfigDocument,
} from "../../../core/config/document.ts";
import { exportConfig, type SecretsMode } from "../../../core/config/export.ts";
import { applyConfig, ConfigApplyError, formatPlan } from "../../../core/config/apply.ts";
import type { NodeConfig } from "../config.ts";
import { loadKeys } from "../keys.ts";
import { createLogger } from "../logger.ts";
import { configDeps } from "../config_deps.ts";

export const CONFIG_FLAGS = ["--tenant", "--secrets", "--output", "--dry-run", "--prune"];

const HELP = `Usage:
  event-router config export [--tenant <user>] [--secrets sealed|env] [--output er.yaml]
  event-router config apply <file|-> [--tenant <user>] [--dry-run] [--prune]

export writes one user's destinations, routes and triggers (and the node's settings for an
admin) as YAML, by name. Secrets are never in clear: sealed as stored (they open only with this
node's ENCRYPTION_KEY), or with --secrets env as \${NAME} references (listed on stderr).

apply creates or updates by name what the file lists, after checking the whole file (nothing
is changed when any part is invalid), and prints the plan (+ created, ~ changed, - deleted) or
"no changes". --dry-run prints the plan only; --prune deletes what the file does not list.
\${NAME} references are filled in from the environment.

--tenant names the user (default: the user "admin", else the only admin).
Exit codes: 0 done, 1 the file was refused (each problem on stderr), 2 usage.`;

function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

/** The positional arguments: what is neither a flag nor a flag's value. */
function positional(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--")) {
      if (!a.includes("=") && ["--tenant", "--secrets", "--output"].includes(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

async function tenantScope(store: Store, name: string | undefined): Promise<Scope | string> {
  if (name) {
    const u = await store.getUserByName(name);
    return u ? { userId: u.id, role: u.role } : `no user named "${name}"`;
  }
  const admin = await store.getUserByName("admin");
  if (admin?.role === "admin") return { userId: admin.id, role: "admin" };
  const admins = (await store.listUsers({ limit: 500, offset: 0 })).items.filter((u) =>
    u.role === "admin"
  );
  if (admins.length === 1) return { userId: admins[0].id, role: "admin" };
  return "more than one admin and none named admin: choose one with --tenant";
}

export async function configCommand(
  args: string[],
  help: boolean,
  cfg: NodeConfig,
  open: () => Promise<Store>,
  /** Where `${NAME}` references are looked up (the process environment). */
  env: Record<string, string | undefined>,
  io: { out(text: string): void; err(text: string): void; stdin(): Promise<string> } = {
    out: (t) => void Deno.stdout.writeSync(new TextEncoder().encode(t)),
    err: (t) => console.error(t),
    stdin: () => new Response(Deno.stdin.readable).text(),
  },
): Promise<number> {
  const [action, file] = positional(args);
  if (help || (action !== "export" && action !== "apply")) {
    console.log(HELP);
    return help ? 0 : 2;
  }
  const secrets = (flagValue(args, "--secrets") ?? "sealed") as SecretsMode;
  if (secrets !== "sealed" && secrets !== "env") {
    io.err(`--secrets ${secrets} is invalid: must be sealed or env`);
    return 2;
  }
  if (action === "apply" && !file) {
    io.err("config apply needs a file (or - for standard input)");
    return 2;
  }
  // Read the file before anything is opened: a missing file changes nothing.
  let text = "";
  if (action === "apply") {
    try {
      text = file === "-" ? await io.stdin() : await Deno.readTextFile(file!);
    } catch (e) {
      io.err(`cannot read ${file}: ${(e as Error).message}`);
      return 2;
    }
  }
  const keys = await loadKeys(cfg, createLogger("error"));
  const store = await open();
  try {
    const scope = await tenantScope(store, flagValue(args, "--tenant"));
    if (typeof scope === "string") {
      io.err(scope);
      return 2;
    }
    const sealer = createSealer(keys.encryptionKey);
    const { settings } = readSettings(await store.getSettings());
    const deps = await configDeps(cfg, store, sealer, settings);
    if (action === "export") {
      const r = await exportConfig(deps, scope, secrets);
      const header = [
        `event-router config export (${new Date().toISOString()})`,
        ...(r.variables.length
          ? [`apply with these variables set: ${r.variables.map((v) => v.name).join(", ")}`]
          : []),
      ].join("\n");
      const yaml = stringifyConfigDocument(r.document, header);
      const output = flagValue(args, "--output");
      if (output) await Deno.writeTextFile(output, yaml, { mode: 0o600 });
      else io.out(yaml);
      for (const v of r.variables) io.err(`\${${v.name}}: ${v.where}`);
      return 0;
    }
    const doc = parseConfigDocument(text);
    const r = await applyConfig(deps, scope, doc, {
      dryRun: args.includes("--dry-run"),
      prune: args.includes("--prune"),
      secrets: { env, openSealed: true },
    });
    io.out(`${formatPlan(r.changes)}\n`);
    if (args.includes("--dry-run") && r.changes.length) io.out("(dry run: nothing changed)\n");
    return 0;
  } catch (e) {
    if (e instanceof ConfigDocumentError || e instanceof ConfigApplyError) {
      io.err(`${file}: refused, nothing changed:`);
      for (const p of e.problems) io.err(`  ${p}`);
      return 1;
    }
    throw e;
  } finally {
    await store.close();
  }
}
