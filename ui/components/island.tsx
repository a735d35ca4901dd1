/** Server side of an island: the component's HTML inside the marker the bundle hydrates. */
import type { ComponentProps } from "preact";
import { type IslandName, ISLANDS } from "../islands/mod.ts";

export function island<N extends IslandName>(
  name: N,
  props: ComponentProps<typeof ISLANDS[N]>,
) {
  // deno-lint-ignore no-explicit-any
  const C = ISLANDS[name] as any;
  return (
    <div data-island={name} data-props={JSON.stringify(props)}>
      <C {...(props as Record<string, unknown>)} />
    </div>
  );
}
