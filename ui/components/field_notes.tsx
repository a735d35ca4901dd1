/**
 * What stands below an input: its hint and its error, with the ids `aria-describedby` links
 * them by (`<id>-hint`, `<id>-error`). The islands' fields and the plain sign-in forms share
 * it, so screen readers hear every field's notes the same way.
 */
import type { ComponentChildren } from "preact";

export function FieldNotes(
  { id, error, hint }: { id: string; error?: string; hint?: ComponentChildren },
) {
  return (
    <>
      {hint ? <span class="hint" id={`${id}-hint`}>{hint}</span> : null}
      {error ? <p class="error" id={`${id}-error`} role="alert">{error}</p> : null}
    </>
  );
}

/** The `aria-describedby` of an input with these notes; undefined when it has none. */
export const describedBy = (id: string, error?: string, hint?: unknown) =>
  [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
