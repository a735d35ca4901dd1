/**
 * What the Kafka publisher (destination) and consumer (trigger) share: the connection fields
 * of their configs, the kafkajs client (bounded timeouts, short retries, the address guard on
 * every broker socket, kafkajs logs into our Logger), the check of the seed brokers, and the
 * error classification and description.
 */
import type { Kafka, LogEntry } from "kafkajs";
import { z } from "zod";
import type { Logger, Outbound } from "../../../core/ports.ts";
import { isForbiddenAddressError } from "../../../core/net/forbidden_address_error.ts";
import { errorMessage, hostOf, PublishError } from "../errors.ts";
import { guardedSocketFactory } from "./socket.ts";

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/, "expected host:port");

/** A topic name as Kafka accepts it. */
export const kafkaTopic = z.string().regex(
  /^[A-Za-z0-9._-]{1,249}$/,
  "expected 1-249 characters of letters, digits, '.', '_' or '-'",
);

/** Config fields of every Kafka connection (destination and trigger). */
export const kafkaConnectionShape = {
  /** Bootstrap brokers, host:port each. */
  brokers: z.array(hostPort).min(1, "at least one broker").max(100),
  client_id: z.string().min(1).max(200).default("event-router"),
  ssl: z.boolean().default(false),
  sasl: z.strictObject({
    mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
    username: z.string().min(1),
    password: z.string(),
  }).optional(),
  /** Bound on connecting and on each request, in ms. */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
};

export interface KafkaConnection {
  brokers: string[];
  client_id: string;
  ssl: boolean;
  sasl?: {
    mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
    username: string;
    password: string;
  };
  timeout_ms: number;
}

/** The logger and the address guard: every broker socket (seeds and brokers learnt from
 * metadata) dials only addresses it checked. */
export interface KafkaClientContext {
  log: Logger;
  outbound: Pick<Outbound, "lookup" | "refuseLiteral" | "checkHost">;
}

/**
 * kafkajs, loaded on first use (~45 ms at every start otherwise; the module loader keeps it
 * after that), with its request queue's timer loop fixed (request_queue_fix.ts) before any
 * client exists.
 */
export async function kafkaLibrary(): Promise<typeof import("kafkajs")> {
  await import("./request_queue_fix.ts");
  return await import("kafkajs");
}

/** The kafkajs client for a connection config. */
export async function createKafka(c: KafkaConnection, ctx: KafkaClientContext): Promise<Kafka> {
  const { Kafka, logLevel } = await kafkaLibrary();
  const t = c.timeout_ms;
  return new Kafka({
    clientId: c.client_id,
    brokers: c.brokers,
    ssl: c.ssl,
    sasl: c.sasl
      ? {
        mechanism: c.sasl.mechanism,
        username: c.sasl.username,
        password: c.sasl.password,
      } as never
      : undefined,
    connectionTimeout: Math.min(t, 3_000),
    authenticationTimeout: Math.min(t, 3_000),
    requestTimeout: t,
    enforceRequestTimeout: true,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(ctx.log),
    socketFactory: guardedSocketFactory(ctx.outbound),
  });
}

/**
 * Runs the address guard on the seed brokers. The sockets dial checked addresses anyway;
 * checking the seeds first turns a refused host into one clear permanent error instead of
 * kafkajs's retried connection errors.
 */
export async function checkSeeds(c: KafkaConnection, ctx: KafkaClientContext): Promise<void> {
  try {
    for (const b of c.brokers) {
      await ctx.outbound.checkHost(hostOf(b), Number(b.slice(b.lastIndexOf(":") + 1)));
    }
  } catch (e) {
    throw new PublishError(`kafka: broker host refused: ${errorMessage(e)}`, true);
  }
}

const PERMANENT_TYPES = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_TOPIC_EXCEPTION",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "ILLEGAL_SASL_STATE",
  "UNSUPPORTED_SASL_MECHANISM",
  "INVALID_REQUIRED_ACKS",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
  "UNSUPPORTED_COMPRESSION_TYPE",
  "POLICY_VIOLATION",
]);

/** The innermost kafkajs error (retries-exceeded errors wrap the real one). */
function root(e: unknown): unknown {
  let cur = e;
  for (let i = 0; i < 5; i++) {
    const next = (cur as { originalError?: unknown; cause?: unknown } | null)?.originalError ??
      (cur as { cause?: unknown } | null)?.cause;
    if (!next || next === cur) break;
    cur = next;
  }
  return cur;
}

export function classifyKafka(e: unknown): boolean {
  if (e instanceof PublishError) return e.permanent;
  for (const x of [e, root(e)]) {
    if (isForbiddenAddressError(x)) return true;
    const type = (x as { type?: unknown } | null)?.type;
    if (typeof type === "string" && PERMANENT_TYPES.has(type)) return true;
    const name = (x as { name?: unknown } | null)?.name;
    if (name === "KafkaJSSASLAuthenticationError") return true;
  }
  return false;
}

export function describe(e: unknown): string {
  const r = root(e);
  const outer = errorMessage(e);
  const inner = errorMessage(r);
  const type = (r as { type?: unknown } | null)?.type;
  const core = r !== e && inner !== outer ? `${outer}: ${inner}` : outer;
  return `kafka: ${core}${typeof type === "string" && !core.includes(type) ? ` (${type})` : ""}`;
}

/** kafkajs log lines -> our Logger, at warn (kafkajs is only asked for WARN and ERROR). */
function logCreator(log: Logger) {
  return () => ({ namespace, label, log: entry }: LogEntry) => {
    const { message, ...fields } = entry as { message: string } & Record<string, unknown>;
    // We bound retries ourselves (and every delivery carries an id consumers dedupe on).
    if (message.startsWith("Limiting retries for the idempotent producer")) return;
    log.warn(`kafkajs ${label.toLowerCase()}: ${message}`, { namespace, ...fields });
  };
}
