/**
 * One breaker per destination. After `threshold` consecutive failed publishes the destination
 * is paused (open) for a cool-down that doubles on each failed probe up to `maxOpenMs`; when
 * the cool-down ends one batch is let through (half-open) as a probe; success closes it.
 */
export interface CircuitBreakers {
  /** Destinations to skip now (open and not yet due for a probe). */
  blocked(now: number): string[];
  isOpen(id: string, now: number): boolean;
  success(id: string): void;
  failure(id: string, now: number): void;
  state(id: string, now: number): CircuitState;
  /** Every destination whose breaker is not closed, with its state (for /health). */
  notClosed(now: number): Map<string, Exclude<CircuitState, "closed">>;
}

export type CircuitState = "closed" | "open" | "half-open";

export function createCircuitBreakers(
  opts: { threshold?: number; openMs?: number; maxOpenMs?: number } = {},
): CircuitBreakers {
  const threshold = opts.threshold ?? 5;
  const baseOpen = opts.openMs ?? 10_000;
  const maxOpen = opts.maxOpenMs ?? 300_000;
  const s = new Map<string, { failures: number; openUntil: number; openMs: number }>();
  const state = (id: string, now: number) => {
    const b = s.get(id);
    if (!b || b.failures < threshold) return "closed" as const;
    return now < b.openUntil ? "open" as const : "half-open" as const;
  };
  return {
    blocked(now) {
      return [...s.keys()].filter((id) => state(id, now) === "open");
    },
    isOpen: (id, now) => state(id, now) === "open",
    success(id) {
      s.delete(id);
    },
    failure(id, now) {
      const b = s.get(id) ?? { failures: 0, openUntil: 0, openMs: baseOpen / 2 };
      b.failures++;
      if (b.failures >= threshold && now >= b.openUntil) {
        b.openMs = Math.min(maxOpen, b.openMs * 2);
        b.openUntil = now + b.openMs;
      }
      s.set(id, b);
    },
    state,
    notClosed(now) {
      const out = new Map<string, "open" | "half-open">();
      for (const id of s.keys()) {
        const st = state(id, now);
        if (st !== "closed") out.set(id, st);
      }
      return out;
    },
  };
}
