/** The end of every form island: the form-level alert and notice, then the submit button. */
import { FormAlert, FormNotice } from "./fields.tsx";

export function SaveRow(
  { label, busy, alert, notice }: {
    label: string;
    busy: boolean;
    alert?: string;
    notice?: string;
  },
) {
  return (
    <>
      <FormAlert message={alert} />
      <FormNotice message={notice} />
      <div class="row">
        <button type="submit" disabled={busy}>{label}</button>
      </div>
    </>
  );
}
