/** Labelled inputs with their error right below, linked for screen readers. */
import type { ComponentChildren } from "preact";
import { parseJsonField } from "./api.ts";
import { describedBy, FieldNotes } from "../components/field_notes.tsx";

interface Base {
  id: string;
  label: string;
  error?: string;
  hint?: ComponentChildren;
}

export function TextField(
  p: Base & {
    value: string;
    onInput: (v: string) => void;
    type?: "text" | "password" | "number" | "url";
    required?: boolean;
    autocomplete?: string;
    placeholder?: string;
  },
) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        name={p.id}
        type={(p.type ?? "text") as "text"}
        value={p.value}
        required={p.required}
        autocomplete={p.autocomplete}
        placeholder={p.placeholder}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={describedBy(p.id, p.error, p.hint)}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <FieldNotes id={p.id} error={p.error} hint={p.hint} />
    </div>
  );
}

export function SelectField(
  p: Base & {
    value: string;
    options: Array<[value: string, label: string]>;
    onChange: (v: string) => void;
  },
) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <select
        id={p.id}
        name={p.id}
        value={p.value}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={describedBy(p.id, p.error, p.hint)}
        onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {p.options.map(([v, l]) => <option key={v} value={v} selected={v === p.value}>{l}</option>)}
      </select>
      <FieldNotes id={p.id} error={p.error} hint={p.hint} />
    </div>
  );
}

export function CheckField(
  p: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void },
) {
  return (
    <label class="check" for={p.id}>
      <input
        id={p.id}
        type="checkbox"
        checked={p.checked}
        onChange={(e) => p.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      {p.label}
    </label>
  );
}

/** A labelled textarea: free text, one entry per line, JSON. */
export function TextAreaField(
  p: Base & {
    value: string;
    onInput: (v: string) => void;
    rows: number;
    placeholder?: string;
    spellcheck?: boolean;
  },
) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <textarea
        id={p.id}
        name={p.id}
        rows={p.rows}
        spellcheck={p.spellcheck}
        placeholder={p.placeholder}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={describedBy(p.id, p.error, p.hint)}
        onInput={(e) => p.onInput((e.currentTarget as HTMLTextAreaElement).value)}
        value={p.value}
      />
      <FieldNotes id={p.id} error={p.error} hint={p.hint} />
    </div>
  );
}

/**
 * A JSON editor: a textarea that says at once when its text is not JSON (or not the kind of
 * JSON the field takes), and shows the API's message for the field after a save.
 */
export function JsonField(
  p: Base & {
    value: string;
    onInput: (v: string) => void;
    kind: "object" | "array" | "any";
    rows?: number;
    placeholder?: string;
  },
) {
  const { kind, rows, error, ...rest } = p;
  const local = parseJsonField(p.value, kind).error;
  return <TextAreaField {...rest} rows={rows ?? 6} spellcheck={false} error={local ?? error} />;
}

/** The form-level message of a failed save (what no field claimed). */
export function FormAlert({ message }: { message?: string }) {
  return message ? <p class="alert" role="alert">{message}</p> : null;
}

export function FormNotice({ message }: { message?: string }) {
  return message ? <p class="notice" role="status">{message}</p> : null;
}
