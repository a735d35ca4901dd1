/**
 * A source's emitted item as an Envelope: the same shape a webhook becomes, so rules,
 * pipeline, destinations, retries and dead letters treat every source alike.
 */
import type { Envelope, SourceContext, SourceEvent } from "../ports.ts";
import { newId } from "../model/ids.ts";

export type TriggerRef = SourceContext["trigger"];

export function sourceEnvelope(trigger: TriggerRef, e: SourceEvent, now: number): Envelope {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.headers ?? {})) headers[k.toLowerCase()] = v;
  headers["x-trigger-id"] = trigger.id;
  headers["x-trigger-type"] = trigger.type;
  return {
    id: newId("evt"),
    tenant: trigger.tenant,
    routeId: trigger.routeId,
    source: `trigger:${trigger.id}`,
    receivedAt: e.receivedAt ?? now,
    method: "POST",
    path: `/triggers/${trigger.id}`,
    query: "",
    ip: "",
    headers,
    body: e.body,
    // Scoped to the trigger: two triggers on one route never collide on an item id.
    dedupKey: e.dedupKey ? `${trigger.id}:${e.dedupKey}` : null,
  };
}
