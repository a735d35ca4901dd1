/**
 * `event-router route test --route route.json --events samples.jsonl --expected expected/`
 *
 * Golden tests for a route, for users' own CI: every line of the samples file is one event
 * (`{"body": ..., "headers": {...}, "query"?, "method"?, "path"?, "ip"?, "id"?}`), run in order
 * through the route with one in-memory aggregate state, a fixed clock and stable event ids;
 * each result is compared with `expected/<n>.json` (n from 1). `--update` writes the files.
 * Exit code 0 when everything matches, 1 otherwise (including usage errors).
 */
import {
  buildRoute,
  MemoryState,
  type OutDelivery,
  RouteDefinitionError,
  type RouteOutcome,
  runRoute,
  sampleToEvent,
} from "../../../core/pipeline/mod.ts";
import type { DrySample } from "../../../core/pipeline/dry_run.ts";

const USAGE =
  "usage: event-router route test --route <route.json> --events <samples.jsonl> --expected <dir> [--update] [--now <iso|ms>] [--network]";
const DEFAULT_NOW = "2025-01-01T00:00:00.000Z";

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

interface Options {
  route: string;
  events: string;
  expected: string;
  update: boolean;
  network: boolean;
  now: number;
}

function parseArgs(args: string[]): Options | string {
  const rest = args[0] === "test" ? args.slice(1) : args;
  const opts: Partial<Options> & { update: boolean; network: boolean } = {
    update: false,
    network: false,
  };
  let now = DEFAULT_NOW;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    try {
      switch (flag) {
        case "--route":
          opts.route = value();
          break;
        case "--events":
          opts.events = value();
          break;
        case "--expected":
          opts.expected = value();
          break;
        case "--now":
          now = value();
          break;
        case "--update":
          opts.update = true;
          break;
        case "--network":
          opts.network = true;
          break;
        default:
          return `unknown argument "${rest[i]}"`;
      }
    } catch (e) {
      return (e as Error).message;
    }
  }
  for (const f of ["route", "events", "expected"] as const) {
    if (!opts[f]) return `--${f} is required`;
  }
  const ms = /^\d+$/.test(now) ? Number(now) : Date.parse(now);
  if (Number.isNaN(ms)) return `--now "${now}" is not a date`;
  return { ...opts, now: ms } as Options;
}

function decodeDelivery(d: OutDelivery) {
  const text = new TextDecoder().decode(d.body);
  let body: unknown = text;
  if ((d.headers["content-type"] ?? "").includes("json")) {
    try {
      body = JSON.parse(text);
    } catch { /* keep the text */ }
  }
  const out: Record<string, unknown> = { destination_id: d.destinationId };
  if (d.fallbackDestinationId) out.fallback_destination_id = d.fallbackDestinationId;
  out.headers = d.headers;
  if (d.key !== undefined) out.key = d.key;
  out.body = body;
  return out;
}

/** The golden form of an outcome: what a user wants to pin down, nothing timing-dependent. */
export function goldenOf(o: RouteOutcome): Record<string, unknown> {
  const g: Record<string, unknown> = {
    matched: o.matched,
    rules: o.rules.filter((r) => r.matched).map((r) => r.name),
    deliveries: o.deliveries.map(decodeDelivery),
  };
  if (o.dropped) g.dropped = o.dropped;
  if (o.failed) g.failed = o.failed;
  if (o.rejected) g.rejected = o.rejected;
  if (o.held) g.held = true;
  return g;
}

const show = (v: unknown) => v === undefined ? "(missing)" : JSON.stringify(v);

/** One line per differing leaf: `deliveries[0].body.total: expected 12, got 13`. */
export function diffJson(expected: unknown, actual: unknown, path = ""): string[] {
  const isObj = (v: unknown) => typeof v === "object" && v !== null;
  if (isObj(expected) && isObj(actual) && Array.isArray(expected) === Array.isArray(actual)) {
    const lines: string[] = [];
    if (Array.isArray(expected) && Array.isArray(actual)) {
      const n = Math.max(expected.length, actual.length);
      for (let i = 0; i < n; i++) lines.push(...diffJson(expected[i], actual[i], `${path}[${i}]`));
      return lines;
    }
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
      lines.push(...diffJson(e[k], a[k], path ? `${path}.${k}` : k));
    }
    return lines;
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  return [`${path || "(root)"}: expected ${show(expected)}, got ${show(actual)}`];
}

async function readSamples(file: string): Promise<DrySample[]> {
  const text = await Deno.readTextFile(file);
  const samples: DrySample[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON: ${(e as Error).message}`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v) || !("body" in v)) {
      throw new Error(`${file}:${i + 1}: a sample is an object with a "body"`);
    }
    samples.push(v as DrySample);
  });
  return samples;
}

export async function routeTestCommand(
  args: string[],
  io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === "string") {
    io.err(opts);
    io.err(USAGE);
    return 1;
  }
  let samples: DrySample[];
  let route: ReturnType<typeof buildRoute>;
  try {
    const def = JSON.parse(await Deno.readTextFile(opts.route));
    route = buildRoute({ id: "route_test", version: 0, destinations: [], ...def });
    samples = await readSamples(opts.events);
  } catch (e) {
    const msg = e instanceof RouteDefinitionError
      ? `${opts.route}: invalid route: ${e.message}`
      : (e as Error).message;
    io.err(msg);
    return 1;
  }
  const now = () => opts.now;
  const deps = {
    fetch: opts.network ? fetch : ((() =>
      Promise.reject(
        new Error("enrich calls are disabled in route test; pass --network to allow them"),
      )) as typeof fetch),
    state: new MemoryState(now),
    now,
  };
  if (opts.update) await Deno.mkdir(opts.expected, { recursive: true });
  let failed = 0;
  for (const [i, sample] of samples.entries()) {
    const n = i + 1;
    const event = sampleToEvent({ id: `evt_sample_${n}`, ...sample }, route.id, now());
    const outcome = await runRoute(route, event, deps);
    await outcome.commit?.();
    const actual = goldenOf(outcome);
    const file = `${opts.expected.replace(/\/+$/, "")}/${n}.json`;
    if (opts.update) {
      await Deno.writeTextFile(file, JSON.stringify(actual, null, 2) + "\n");
      continue;
    }
    let expected: unknown;
    try {
      expected = JSON.parse(await Deno.readTextFile(file));
    } catch (e) {
      failed++;
      io.out(
        e instanceof Deno.errors.NotFound
          ? `sample ${n}: ${file} is missing (run with --update to create it)`
          : `sample ${n}: ${file}: ${(e as Error).message}`,
      );
      continue;
    }
    const lines = diffJson(expected, actual);
    if (lines.length > 0) failed++;
    for (const line of lines.slice(0, 20)) io.out(`sample ${n}: ${line}`);
    if (lines.length > 20) io.out(`sample ${n}: ... ${lines.length - 20} more differences`);
  }
  if (opts.update) {
    io.out(`wrote ${samples.length} expected file(s) to ${opts.expected}`);
    return 0;
  }
  io.out(`${samples.length} sample(s): ${samples.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await routeTestCommand(Deno.args));
