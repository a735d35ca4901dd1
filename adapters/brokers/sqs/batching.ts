/**
 * The batch loop SQS (SendMessageBatch) and SNS (PublishBatch) share: chunk by count and bytes,
 * send one request per chunk, map Successful/Failed back to each message.
 *
 * - FIFO targets: chunks go one at a time, and once a message of a group fails, later messages
 *   of that group are not sent (they fail retriably) so the group's order survives the retry.
 * - A request refused as a whole for a message-level reason (say, one message too large) is
 *   resent message by message, so only the bad message fails.
 * - A lone message goes through the single-message call.
 */
import type { PublishResult } from "../../../core/ports.ts";
import { chunk, entryFailure, type ErrorClass, failAll } from "./aws.ts";

export interface PreparedEntry<E extends { Id: string | undefined }> {
  entry: E;
  bytes: number;
  /** FIFO group id (FIFO targets only). */
  group?: string;
}

export interface BatchAnswer {
  Successful?: { Id?: string }[];
  Failed?: { Id?: string; Code?: string; Message?: string; SenderFault?: boolean }[];
}

export interface BatchOps<E> {
  /** e.g. "sqs SendMessageBatch" and "sqs SendMessage", for error texts. */
  batchName: string;
  oneName: string;
  sendBatch(entries: E[], signal: AbortSignal): Promise<BatchAnswer>;
  sendOne(entry: E, signal: AbortSignal): Promise<void>;
  classify(err: unknown, what: string, signal: AbortSignal): ErrorClass;
}

export interface BatchOptions {
  fifo: boolean;
  concurrency: number;
  maxBytes: number;
  maxCount: number;
}

export async function publishPrepared<E extends { Id: string | undefined }>(
  prepared: PreparedEntry<E>[],
  opts: BatchOptions,
  ops: BatchOps<E>,
  signal: AbortSignal,
): Promise<PublishResult[]> {
  const chunks = chunk(prepared.map((p) => p.bytes), opts.maxCount, opts.maxBytes);
  const results: PublishResult[] = new Array(prepared.length);
  if (opts.fifo) {
    const failedGroups = new Set<string>();
    for (const idx of chunks) {
      const send: number[] = [];
      for (const i of idx) {
        const group = prepared[i].group!;
        if (!failedGroups.has(group)) send.push(i);
        else {
          results[i] = {
            ok: false,
            permanent: false,
            error: `${ops.batchName}: not sent, an earlier message of group ${group} failed`,
          };
        }
      }
      await sendChunk(prepared, send, results, ops, signal);
      for (const i of send) if (!results[i].ok) failedGroups.add(prepared[i].group!);
    }
  } else {
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        await sendChunk(prepared, chunks[next++], results, ops, signal);
      }
    };
    const workers = Math.min(opts.concurrency, chunks.length);
    await Promise.all(Array.from({ length: workers }, worker));
  }
  return results;
}

async function sendChunk<E extends { Id: string | undefined }>(
  prepared: PreparedEntry<E>[],
  idx: number[],
  results: PublishResult[],
  ops: BatchOps<E>,
  signal: AbortSignal,
): Promise<void> {
  if (idx.length === 0) return;
  if (idx.length === 1) {
    results[idx[0]] = await sendOne(prepared[idx[0]].entry, ops, signal);
    return;
  }
  let answer: BatchAnswer;
  try {
    answer = await ops.sendBatch(idx.map((i) => prepared[i].entry), signal);
  } catch (err) {
    const c = ops.classify(err, ops.batchName, signal);
    if (c.permanent && !c.target) {
      // Refused for one message's sake: find it by sending one by one (in order, for FIFO).
      for (const i of idx) results[i] = await sendOne(prepared[i].entry, ops, signal);
    } else {
      failAll(idx.length, c).forEach((r, k) => (results[idx[k]] = r));
    }
    return;
  }
  const byId = new Map(idx.map((i) => [prepared[i].entry.Id, i]));
  for (const s of answer.Successful ?? []) {
    const i = byId.get(s.Id);
    if (i !== undefined) results[i] = { ok: true };
  }
  for (const f of answer.Failed ?? []) {
    const i = byId.get(f.Id);
    if (i !== undefined) results[i] = entryFailure(ops.batchName, f);
  }
  for (const i of idx) {
    results[i] ??= {
      ok: false,
      permanent: false,
      error: `${ops.batchName}: no result for entry ${prepared[i].entry.Id}`,
    };
  }
}

async function sendOne<E>(
  entry: E,
  ops: BatchOps<E>,
  signal: AbortSignal,
): Promise<PublishResult> {
  try {
    await ops.sendOne(entry, signal);
    return { ok: true };
  } catch (err) {
    return failAll(1, ops.classify(err, ops.oneName, signal))[0];
  }
}
