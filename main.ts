/**
 * Event Router full node CLI: serve (default) | migrate | user | keys | route | config | version.
 * Configuration comes from the environment; `--flag value` overrides (e.g. --port 9000). A flag
 * the command does not know, like an invalid value, stops it with exit code 2.
 */
import { ConfigError, flagsToEnv, loadConfig, type NodeConfig } from "./runtimes/deno/config.ts";
import { ensureAdmin, openConfiguredStore, startNode, VERSION } from "./runtimes/deno/node.ts";
import { flagOf, VARIABLES, variablesHelp } from "./runtimes/deno/variables.ts";
import { unknownFlag } from "./runtimes/deno/cli/flags.ts";
import { userCommand } from "./runtimes/deno/cli/user.ts";
import { keysCommand } from "./runtimes/deno/cli/keys.ts";
import { CONFIG_FLAGS, configCommand } from "./runtimes/deno/cli/config.ts";

const HELP: Record<string, string> = {
  main: `event-router ${VERSION}: receive, route, reshape and deliver events at least once

Usage: event-router [command] [--flags]

Commands:
  serve              run the full node (default)
  migrate            apply database migrations and exit
  user add|passwd|list   manage users
  keys rotate        re-seal every stored secret under a new encryption key
  route test         run a route over sample events and compare with expected outputs
  config export|apply   configuration as code: routes, destinations, triggers, settings (YAML)
  version            print the version

Every environment variable has a flag: PORT -> --port, DATABASE_PATH -> --database-path.
Run "event-router serve --help" for the variables, "event-router <command> --help" for others.`,
  serve: `Usage: event-router serve [--port 8080] [--database-path ./data/event-router.db] ...

Runs the full node. Every variable below is read from the environment and may be given as a
flag instead (PORT -> --port 9000, TRUST_PROXY -> --trust-proxy). Invalid values stop the node
with exit code 2 and a line naming the variable.

${variablesHelp()}

Unset JWT_SECRET / ENCRYPTION_KEY are generated into the data folder (mode 0600).`,
  migrate: `Usage: event-router migrate\n\nApplies pending migrations to the configured database.`,
  version: `Usage: event-router version`,
};

/** Each command's own flags; `config: true` also takes every variable as a flag. */
const COMMANDS: Record<string, { flags: string[]; config: boolean }> = {
  serve: { flags: [], config: true },
  migrate: { flags: [], config: true },
  user: { flags: ["--role"], config: true },
  keys: { flags: ["--new-key"], config: true },
  route: {
    flags: ["--route", "--events", "--expected", "--update", "--now", "--network"],
    config: false,
  },
  config: { flags: CONFIG_FLAGS, config: true },
  version: { flags: [], config: false },
  help: { flags: [], config: false },
};

function config(extra: Record<string, string | undefined>): NodeConfig {
  return loadConfig({ ...Deno.env.toObject(), ...extra });
}

/** The usage error for flags `cmd` does not take, or null. */
function checkFlags(cmd: string, args: string[], flagEnv: Record<string, unknown>) {
  const spec = COMMANDS[cmd];
  if (!spec) return null;
  const known = [
    ...spec.flags,
    "--help",
    "-h",
    ...(spec.config ? VARIABLES.map((v) => flagOf(v.name)) : []),
  ];
  const given = spec.config ? args : [...Object.keys(flagEnv).map(flagOf), ...args];
  return unknownFlag(given, known, cmd);
}

export async function main(args: string[]): Promise<number> {
  const { env: flagEnv, rest } = flagsToEnv(args);
  const first = rest[0];
  // No command, or flags only: serve (`event-router --port 9000`).
  const named = first !== undefined && !first.startsWith("-");
  const cmd = named ? first : first === "--help" || first === "-h" ? "help" : "serve";
  const sub = named ? rest.slice(1) : rest;
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  const usage = checkFlags(cmd, sub, flagEnv);
  if (usage) {
    console.error(usage);
    return 2;
  }
  try {
    switch (cmd) {
      case "help":
        console.log(HELP.main);
        return 0;
      case "version":
        if (wantsHelp) return (console.log(HELP.version), 0);
        console.log(VERSION);
        return 0;
      case "migrate": {
        if (wantsHelp) return (console.log(HELP.migrate), 0);
        const store = await openConfiguredStore(config(flagEnv));
        await store.close();
        console.log("migrations applied");
        return 0;
      }
      case "keys": {
        const cfg = config(flagEnv);
        return await keysCommand(sub, wantsHelp, cfg, () => openConfiguredStore(cfg));
      }
      case "config": {
        const cfg = config(flagEnv);
        // A first apply may set up a new node: it gets its admin as a first start would.
        const open = async () => {
          const store = await openConfiguredStore(cfg);
          await ensureAdmin(store);
          return store;
        };
        return await configCommand(sub, wantsHelp, cfg, open, Deno.env.toObject());
      }
      case "user":
        return await userCommand(sub, wantsHelp, () => openConfiguredStore(config(flagEnv)));
      case "route": {
        const { routeTestCommand } = await import("./runtimes/deno/cli/route_test.ts");
        return await routeTestCommand(args.slice(args.indexOf("route") + 2));
      }
      case "serve": {
        if (wantsHelp) return (console.log(HELP.serve), 0);
        const node = await startNode(config(flagEnv));
        const onSignal = () => void node.stop();
        Deno.addSignalListener("SIGINT", onSignal);
        Deno.addSignalListener("SIGTERM", onSignal);
        await node.finished;
        await node.stop();
        return 0;
      }
      default:
        console.error(`unknown command "${cmd}"; run event-router --help`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`configuration error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
