/**
 * Open-loop load: signed webhooks (GitHub's scheme, HMAC-SHA256 of the body) sent on a fixed
 * schedule whatever the node does, so a stalled node shows as latency measured from each
 * request's scheduled time rather than as fewer requests. Every other request carries an
 * X-GitHub-Delivery id (the node's duplicate check); a failed attempt (refused while the node is
 * down, 5xx, 429, timeout) is sent again after `retryDelayMs`, with the same id and body, as a
 * sender would.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { RequestRecord } from "./accounting.ts";

export interface LoadOptions {
  url: () => string;
  secret: string;
  ratePerSecond: number;
  bodyBytes?: number;
  /** Attempts per request, the first included. */
  maxAttempts?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /** Requests in flight at most; beyond it the schedule still advances and they count as
   * refused by the generator (it says so), so the schedule never waits. */
  maxInFlight?: number;
}

export interface Load {
  records: RequestRecord[];
  /** Event ids answered to retries after the first ack (kept for the accounting). */
  extraAcks: string[];
  inFlight(): number;
  /** Requests the generator could not send because maxInFlight was reached. */
  saturated(): number;
  /** Stops scheduling new requests; resolves when every attempt and retry has finished. */
  stop(): Promise<void>;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export function startLoad(opts: LoadOptions): Load {
  const enc = new TextEncoder();
  const key = enc.encode(opts.secret);
  const maxAttempts = opts.maxAttempts ?? 5;
  const retryDelay = opts.retryDelayMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxInFlight = opts.maxInFlight ?? 4000;
  const pad = "x".repeat(Math.max(0, (opts.bodyBytes ?? 512) - 60));
  const records: RequestRecord[] = [];
  const extraAcks: string[] = [];
  const pending = new Set<Promise<void>>();
  let inFlight = 0, saturated = 0, stopped = false;

  const attempt = async (
    r: RequestRecord,
    body: Uint8Array<ArrayBuffer>,
    headers: Record<string, string>,
  ) => {
    for (;;) {
      r.attempts++;
      const first = r.attempts === 1;
      inFlight++;
      let ok = false;
      try {
        const res = await fetch(opts.url(), {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status >= 200 && res.status < 300) {
          const id = (JSON.parse(text) as { id?: string }).id;
          if (!id) throw new Error(`2xx without an event id: ${text.slice(0, 200)}`);
          if (r.eventId === undefined) {
            r.eventId = id;
            r.status = res.status;
            if (first) r.latencyMs = performance.now() - r.scheduledAt;
          } else if (id !== r.eventId) extraAcks.push(id);
          ok = true;
        } else {
          r.lastError = String(res.status);
          // 4xx other than 429 and 408 (the node's head guard timed the request out, which a
          // sender retries) is the generator's bug, not the node's: stop trying.
          if (res.status < 500 && res.status !== 429 && res.status !== 408) {
            throw new Error(`the node refused a soak request with ${res.status}: ${text}`);
          }
        }
      } catch (e) {
        if (e instanceof Error && e.message.startsWith("the node refused")) throw e;
        r.lastError = (e as Error)?.name ?? String(e);
      } finally {
        inFlight--;
      }
      if (ok || r.attempts >= maxAttempts) return;
      await new Promise((res) => setTimeout(res, retryDelay));
    }
  };

  const send = (seq: number, scheduledAt: number) => {
    const r: RequestRecord = { seq, scheduledAt, attempts: 0 };
    records.push(r);
    if (inFlight >= maxInFlight) {
      saturated++;
      r.lastError = "generator saturated";
      return;
    }
    const body = enc.encode(JSON.stringify({ action: "soak", seq, pad }));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-hub-signature-256": `sha256=${hex(hmac(sha256, key, body))}`,
    };
    if (seq % 2 === 0) headers["x-github-delivery"] = crypto.randomUUID();
    const p = attempt(r, body, headers);
    pending.add(p);
    p.finally(() => pending.delete(p));
  };

  const t0 = performance.now();
  let sent = 0;
  // Due requests are computed from the clock on every tick, so a late tick sends the backlog
  // at once instead of slowing the schedule down.
  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor((performance.now() - t0) * opts.ratePerSecond / 1000);
    while (sent < due) {
      send(sent, t0 + sent * 1000 / opts.ratePerSecond);
      sent++;
    }
  }, 2);

  return {
    records,
    extraAcks,
    inFlight: () => inFlight,
    saturated: () => saturated,
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
