/** Resolves after `ms` or as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The message of anything thrown, bounded so one error cannot bloat the trigger's state. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
