/**
 * Event Router full node CLI: serve (default) | migrate | user add|passwd|list | version.
 * Configuration comes from the environment; `--flag value` overrides (e.g. --port 9000).
 */
import { ConfigError, flagsToEnv, loadConfig, type NodeConfig } from "./runtimes/deno/config.ts";
import { openConfiguredStore, startNode, VERSION } from "./runtimes/deno/node.ts";
import { userCommand } from "./runtimes/deno/cli/user.ts";
import { keysCommand } from "./runtimes/deno/cli/keys.ts";

const HELP: Record<string, string> = {
  main: `event-router ${VERSION}: receive, route, reshape and deliver events at least once

Usage: event-router [command] [--flags]

Commands:
  serve              run the full node (default)
  migrate            apply database migrations and exit
  user add|passwd|list   manage users
  keys rotate        re-seal every stored secret under a new encryption key
  route test         run a route over sample events and compare with expected outputs
  version            print the version

Every environment variable has a flag: PORT -> --port, DATABASE_PATH -> --database-path.
Run "event-router <command> --help" for details.`,
  serve: `Usage: event-router serve [--port 8080] [--database-path ./data/event-router.db]

Environment: PORT, HOST, DATABASE_TYPE (sqlite|libsql), DATABASE_PATH, DATABASE_URL,
DATABASE_AUTH_TOKEN, DATABASE_SYNC (full|normal), JWT_SECRET (>= 32 chars), ENCRYPTION_KEY
(64 hex chars or base64 of 32 bytes), LOG_LEVEL, RABBITMQ_URL, REDIS_ADDRESS,
KV_PATH, LEASE_MS, ALLOW_PRIVATE_NETWORKS, MAX_BODY_BYTES, TOKEN_TTL_SECONDS, RETENTION_DAYS,
TRUST_PROXY.
Unset JWT_SECRET / ENCRYPTION_KEY are generated into the data folder (mode 0600).`,
  migrate: `Usage: event-router migrate\n\nApplies pending migrations to the configured database.`,
  version: `Usage: event-router version`,
};

function config(extra: Record<string, string | undefined>): NodeConfig {
  return loadConfig({ ...Deno.env.toObject(), ...extra });
}

export async function main(args: string[]): Promise<number> {
  const { env: flagEnv, rest } = flagsToEnv(args);
  const [cmd = "serve", ...sub] = rest;
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  try {
    switch (cmd) {
      case "--help":
      case "-h":
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
