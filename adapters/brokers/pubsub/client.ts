/**
 * What the Pub/Sub publisher (destination) and consumer (trigger) share: the connection
 * fields of their configs (project, emulator, service account key), the client (the emulator
 * only when `emulator_host` says so, through the address guard), and the gRPC codes that mean
 * a person must act.
 */
import type { ClientConfig, PubSub } from "@google-cloud/pubsub";
import { z } from "zod";
import type { Outbound } from "../../../core/ports.ts";
import { bounded, ConfigError } from "../errors.ts";

/**
 * A service account key. Other credential types are refused: external accounts and
 * impersonation make the auth library fetch URLs (or run commands) named in the JSON, and a
 * foreign universe would move the endpoint.
 */
const serviceAccount = z.looseObject({
  type: z.literal("service_account", "must be service_account").optional(),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  universe_domain: z.literal("googleapis.com", "must be googleapis.com").optional(),
});

export type ServiceAccount = z.output<typeof serviceAccount>;

/** Config fields of every Pub/Sub connection. */
export const pubsubConnectionShape = {
  project_id: z.string().regex(
    /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
    "must be a GCP project id (6 to 30 lowercase letters, digits, hyphens)",
  ),
  /** `host:port` of an emulator (gcloud's or pstest); used instead of PUBSUB_EMULATOR_HOST. */
  emulator_host: z.string().regex(
    /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/,
    "must be host:port",
  ).optional(),
  /** Service account key (the JSON object, or that JSON as a string); else ADC. */
  credentials: z.union([serviceAccount, z.string().min(2)], {
    error: "must be a service account key (type service_account, client_email, private_key)" +
      " or that JSON as a string",
  }).optional(),
  /** Bound on one call, including connecting (ms). */
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
};

export interface PubsubConnection {
  project_id: string;
  emulator_host?: string;
  credentials?: ServiceAccount | string;
  timeout_ms: number;
}

/** The service account key of `credentials`, or a message saying what is wrong with it. */
export function serviceAccountOf(credentials: ServiceAccount | string): ServiceAccount | string {
  if (typeof credentials !== "string") return credentials;
  let parsed: unknown;
  try {
    parsed = JSON.parse(credentials);
  } catch {
    return "must be service account JSON";
  }
  const r = serviceAccount.safeParse(parsed);
  return r.success ? r.data : "must be a service account key with client_email and private_key";
}

/** The zod check both configs add: `credentials` given as a string must be a key's JSON. */
export function checkCredentials(
  c: { credentials?: ServiceAccount | string },
  ctx: z.RefinementCtx,
) {
  if (typeof c.credentials !== "string") return;
  const r = serviceAccountOf(c.credentials);
  if (typeof r === "string") ctx.addIssue({ code: "custom", path: ["credentials"], message: r });
}

export const PERMANENT_CODES = new Map([
  [3, "INVALID_ARGUMENT"],
  [5, "NOT_FOUND"],
  [6, "ALREADY_EXISTS"],
  [7, "PERMISSION_DENIED"],
  [9, "FAILED_PRECONDITION"],
  [11, "OUT_OF_RANGE"],
  [12, "UNIMPLEMENTED"],
  [16, "UNAUTHENTICATED"],
]);

/** True for gRPC errors a person must fix (missing topic/subscription, credentials, ...). */
export function classifyPubsub(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" && PERMANENT_CODES.has(code);
}

/**
 * For configs not owned by an admin: without `credentials` (and not on an emulator) the client
 * would use the node's own Google credentials (ADC, the metadata server); refused. `what` names
 * the thing in the message ("destination", "trigger").
 */
export function requirePubsubCredentials<C extends PubsubConnection>(c: C, what: string): C {
  if (!c.emulator_host && !c.credentials) {
    throw new ConfigError(
      `pubsub config: credentials: required (a service account key) for a ${what} not ` +
        "owned by an admin: the node's own Google credentials are not lent out",
    );
  }
  return c;
}

/**
 * The client library, loaded on first use (the module loader keeps it after that): with gRPC it
 * takes ~330 ms and ~47 MB to load here, which every start of a node without Pub/Sub would
 * otherwise pay (and a restart after a crash is time webhooks go unanswered).
 */
export const pubsubLibrary = () => import("@google-cloud/pubsub");

/**
 * The client for a connection: with `emulator_host` that emulator, dialled on the address the
 * guard checked (gRPC resolves names by itself and takes no lookup); else
 * pubsub.googleapis.com, whatever PUBSUB_EMULATOR_HOST says.
 */
export async function pubsubClient(
  c: PubsubConnection,
  outbound: Pick<Outbound, "resolve">,
  signal?: AbortSignal,
): Promise<PubSub> {
  const options: ClientConfig = {
    projectId: c.project_id,
    // The default universe, stated, keeps google-auth from probing the GCE metadata server.
    universeDomain: "googleapis.com",
  };
  if (c.emulator_host) {
    const colon = c.emulator_host.lastIndexOf(":");
    const host = c.emulator_host.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(c.emulator_host.slice(colon + 1));
    const [ip] = await outbound.resolve(host, port, signal);
    const apiEndpoint = `${ip.includes(":") ? `[${ip}]` : ip}:${port}`;
    Object.assign(options, { apiEndpoint, emulatorMode: true });
  } else {
    Object.assign(options, { apiEndpoint: "pubsub.googleapis.com", emulatorMode: false });
    if (c.credentials) {
      const key = serviceAccountOf(c.credentials);
      if (typeof key === "string") throw new Error(`pubsub credentials: ${key}`);
      options.credentials = key as ClientConfig["credentials"];
    }
  }
  const { PubSub } = await pubsubLibrary();
  const pubsub = new PubSub(options);
  if (!c.emulator_host) {
    // The generated gRPC clients start every call with `initialize().catch(e => { throw e })`:
    // when the credentials cannot be had (no key and no ADC) that is an unhandled rejection,
    // which ends the whole process. So the credentials are got here, once, where a failure is
    // an ordinary error, and every client of this connection uses that very auth object.
    await bounded(pubsub.auth.getClient(), c.timeout_ms, signal, "pubsub credentials");
    (pubsub.options as { auth?: unknown }).auth = pubsub.auth;
  }
  return pubsub;
}
