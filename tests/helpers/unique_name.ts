/** A queue, topic or stream name no earlier run used: the shared test servers keep old ones. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
