/**
 * One API action behind a button (delete, replay, retry), with an inline confirmation when
 * asked for and the API's answer shown beside it. After success it may go to another page.
 */
import { useState } from "preact/hooks";
import { api } from "./api.ts";

export function ActionButton(
  p: {
    label: string;
    method: string;
    path: string;
    body?: unknown;
    /** Asks first: the question shown with Confirm and Cancel. */
    confirm?: string;
    /** Said after success; `{key}` is replaced by that field of the API's answer. */
    done: string;
    /** Where to go after success (a /ui/ path); otherwise the message stays. */
    then?: string;
    danger?: boolean;
  },
) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const act = async () => {
    setAsking(false);
    setBusy(true);
    const r = await api(p.method, p.path, p.body);
    setBusy(false);
    if (r.ok && p.then) return location.assign(p.then);
    const data = (r.data ?? {}) as Record<string, unknown>;
    setMsg(
      r.ok
        ? { ok: true, text: p.done.replace(/\{(\w+)\}/g, (_, k) => String(data[k] ?? "")) }
        : { ok: false, text: r.message ?? Object.values(r.fields ?? {}).join("; ") },
    );
  };
  return (
    <span class="row">
      {asking
        ? (
          <span class="confirm row" role="group" aria-label="Confirmation">
            <span>{p.confirm}</span>
            <button type="button" class={p.danger ? "danger small" : "small"} onClick={act}>
              Confirm
            </button>
            <button type="button" class="secondary small" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </span>
        )
        : (
          <button
            type="button"
            class={p.danger ? "danger small" : "small"}
            disabled={busy || msg?.ok === true}
            onClick={() => (p.confirm ? setAsking(true) : act())}
          >
            {p.label}
          </button>
        )}
      {msg
        ? (
          <span role={msg.ok ? "status" : "alert"} class={msg.ok ? "small" : "error"}>
            {msg.text}
          </span>
        )
        : null}
    </span>
  );
}
