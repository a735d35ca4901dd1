/**
 * Every island by name: the server renders one with `island(name, props)` and the browser
 * bundle (ui/client/main.ts) hydrates it from the same table.
 */
import { ActionButton } from "./action_button.tsx";
import { CopyButton } from "./copy_button.tsx";
import { DashboardLive } from "./dashboard_live.tsx";
import { DestinationForm } from "./destination_form.tsx";
import { LiveTail } from "./live_tail.tsx";
import { RouteForm } from "./route_form.tsx";
import { SettingsForm } from "./settings_form.tsx";
import { TestPanel } from "./test_panel.tsx";
import { TriggerForm } from "./trigger_form.tsx";
import { UserForm } from "./user_form.tsx";

export const ISLANDS = {
  ActionButton,
  CopyButton,
  DashboardLive,
  DestinationForm,
  LiveTail,
  RouteForm,
  SettingsForm,
  TestPanel,
  TriggerForm,
  UserForm,
};

export type IslandName = keyof typeof ISLANDS;
