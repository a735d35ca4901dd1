/** A list page's heading with its "New …" button, as Routes, Destinations and Triggers show it. */
export function ListHeader({ title, newHref, newLabel }: {
  title: string;
  newHref: string;
  newLabel: string;
}) {
  return (
    <div class="spread">
      <h1>{title}</h1>
      <a class="button" href={newHref}>{newLabel}</a>
    </div>
  );
}
