/**
 * The Delete button of a record's page (a route, destination or trigger): asks first, then
 * DELETE /api/<collection>/<id> and back to the list at /ui/<collection>.
 */
import { island } from "./island.tsx";

export function deleteButton(
  r: { kind: string; collection: string; id: string; name: string; warning?: string },
) {
  return island("ActionButton", {
    label: `Delete ${r.kind}`,
    method: "DELETE",
    path: `/api/${r.collection}/${r.id}`,
    confirm: `Delete ${r.kind} ${r.name}?${r.warning ? ` ${r.warning}` : ""}`,
    done: "Deleted",
    then: `/ui/${r.collection}`,
    danger: true,
  });
}
