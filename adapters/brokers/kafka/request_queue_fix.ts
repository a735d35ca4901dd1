/**
 * kafkajs 2.2.4's RequestQueue re-arms a timer after every check of its pending requests, and
 * while nothing is throttled the delay it computes is `-1 - Date.now()`, which timers clamp to
 * 1 ms: every broker connection wakes the event loop about a thousand times a second for
 * nothing (tulios/kafkajs#1704, the TimeoutNegativeWarning of #1751). Measured here: a node
 * with one idle Kafka destination used 5-6% of a core against 2-3% with a Redis one. The fix
 * below is the one proposed upstream (tulios/kafkajs#1768, review): with nothing pending and no
 * throttle to wait out, no timer. Nothing is missed by it: a request pushed later, and every
 * response, run the check themselves. kafkajs has had no release since 2023; drop this once it
 * (or a fork the project moves to) ships the fix.
 */
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

interface Queue {
  pending: unknown[];
  throttledUntil: number;
}

const proto = (RequestQueue as unknown as { prototype: Record<string, unknown> }).prototype;
const original = proto.scheduleCheckPendingRequests as (this: Queue) => void;
if (typeof original !== "function") {
  throw new Error("kafkajs RequestQueue has no scheduleCheckPendingRequests: revisit this fix");
}
// This module is evaluated once, so the wrapper is applied once.
proto.scheduleCheckPendingRequests = function (this: Queue) {
  if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
  original.call(this);
};
