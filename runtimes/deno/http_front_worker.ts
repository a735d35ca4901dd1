/**
 * The HTTP front (http_front.ts) on its own thread, so relaying bytes does not compete with
 * the app for the main thread. Messages: `{start: FrontOptions}` ->
 * `{listening: {hostname, port}}` or `{error, name}`; `"stop"` -> `"stopped"`; `"close"` -> `"closed"`.
 */
import { type Front, startFront } from "./http_front.ts";

let front: Front | null = null;
const post = (m: unknown) => (self as unknown as Worker).postMessage(m);

self.onmessage = async (e: MessageEvent) => {
  const m = e.data;
  try {
    if (m?.start) {
      front = startFront({
        ...m.start,
        onError: (err: unknown) => post({ log: String(err) }),
      });
      post({ listening: { hostname: front.addr.hostname, port: front.addr.port } });
    } else if (m === "stop") {
      await front?.stop();
      post("stopped");
    } else if (m === "close") {
      await front?.close();
      post("closed");
    }
  } catch (err) {
    post({ error: (err as Error)?.message ?? String(err), name: (err as Error)?.name });
  }
};
