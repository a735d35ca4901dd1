/**
 * The list pages' table: one column list gives both the header and each cell's `data-label`
 * (what the narrow-screen CSS shows in front of a cell), so the two cannot drift apart.
 */
import type { ComponentChildren } from "preact";

export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

export function DataTable<T>(
  { columns, rows, rowKey }: {
    columns: Column<T>[];
    rows: T[];
    /** A row's key; rows without an `id` say which field names them. */
    rowKey?: (row: T) => string;
  },
) {
  const key = rowKey ?? ((r: T) => (r as { id: string }).id);
  return (
    <table>
      <thead>
        <tr>
          {columns.map((c) => <th key={c.label}>{c.label}</th>)}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={key(r)}>
            {columns.map((c) => (
              <td key={c.label} data-label={c.label} class={c.class}>{c.cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A record's name as the link to its page, with a muted note (its type, method) after it. */
export function NameLink({ href, name, note }: { href: string; name: string; note: string }) {
  return (
    <>
      <a href={href}>{name}</a> <span class="muted small">{note}</span>
    </>
  );
}
