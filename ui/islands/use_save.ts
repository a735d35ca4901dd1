/**
 * The save cycle every form island has: busy while the request runs, then the API's message
 * split into the per-field errors (shown next to their inputs) and the rest (the form alert),
 * and a notice after a save that stays on the page.
 */
import { useState } from "preact/hooks";
import { api, type ApiResult } from "./api.ts";

/** What a form shows when its own JSON fields are not valid, before anything is sent. */
export const FIX_FIELDS = "fix the fields marked above first";

// deno-lint-ignore no-explicit-any
type Data = any;

export function useSave(fields: readonly string[]) {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [alert, setAlert] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  const send = async (method: string, path: string, body: unknown): Promise<ApiResult<Data>> => {
    setBusy(true);
    const r = await api(method, path, body, fields);
    setBusy(false);
    setErrors(r.fields ?? {});
    setAlert(r.ok ? undefined : r.message);
    return r;
  };

  /**
   * Creates (POST /api/<collection>, then opens the new record's page /ui/<collection>/<id>)
   * or updates (PUT /api/<collection>/<id>) a record. Answers the updated record; undefined
   * when the save failed or the page moves on to the new record.
   */
  const saveRecord = async (collection: string, id: string | undefined, body: unknown) => {
    const res = id
      ? await send("PUT", `/api/${collection}/${id}`, body)
      : await send("POST", `/api/${collection}`, body);
    if (!res.ok) return undefined;
    if (!id) {
      location.assign(`/ui/${collection}/${res.data.id}`);
      return undefined;
    }
    return res.data as Data;
  };

  return { busy, errors, alert, notice, setAlert, setNotice, send, saveRecord };
}
