/**
 * The browser bundle: hydrates every island the server rendered. An island is a
 * `<div data-island="Name" data-props="{json}">` holding the server's HTML of that component.
 */
import { h, hydrate } from "preact";
import { type IslandName, ISLANDS } from "../islands/mod.ts";

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = el.dataset.island as IslandName;
  const C = ISLANDS[name];
  if (!C) {
    console.warn(`unknown island ${name}`);
    continue;
  }
  // deno-lint-ignore no-explicit-any
  hydrate(h(C as any, JSON.parse(el.dataset.props ?? "{}")), el);
}
