/**
 * The few Workers runtime types the entry uses (the platform's own, described here so that
 * `deno check` needs no type package): Durable Object state and storage, a namespace, stubs.
 */
export interface DurableObjectStorage {
  get<T>(key: string): Promise<T | undefined>;
  list<T>(options: { prefix?: string; limit?: number }): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
}

export interface DurableObjectState {
  storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}

export interface DurableObjectStub {
  fetch(request: Request): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}

/** The Worker's bindings: the edge variables and the buffer's Durable Object namespace. */
export interface Env {
  FULL_NODE_URL?: string;
  EDGE_SECRET?: string;
  EDGE_ID?: string;
  ROUTES_REFRESH_SECONDS?: string;
  EDGE_BATCH_SIZE?: string;
  EDGE_RETRY_MAX_SECONDS?: string;
  /** Buffers (Durable Objects) webhooks are spread over by path; default 1. */
  EDGE_SHARDS?: string;
  LOG_LEVEL?: string;
  EDGE_BUFFER: DurableObjectNamespace;
}
