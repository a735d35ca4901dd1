/** drizzle pg-core table definitions for the entity tables (mirror migrations 1 and 3). */
import { bigint, boolean, integer, json, pgTable, text } from "drizzle-orm/pg-core";

const ms = (name: string) => bigint(name, { mode: "number" });

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  username: text("username").notNull(),
  passwordHash: text("password_hash").notNull(),
  role: text("role").$type<"admin" | "user">().notNull(),
  mustChangePassword: boolean("must_change_password").notNull(),
  createdAt: ms("created_at").notNull(),
  updatedAt: ms("updated_at").notNull(),
});

export const destinations = pgTable("destinations", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  name: text("name").notNull(),
  type: text("type").notNull(),
  config: json("config").$type<Record<string, unknown>>().notNull(),
  retry: json("retry").$type<Record<string, unknown> | null>(),
  active: boolean("active").notNull(),
  createdAt: ms("created_at").notNull(),
  updatedAt: ms("updated_at").notNull(),
});

export const routes = pgTable("routes", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  name: text("name").notNull(),
  endpoint: text("endpoint").notNull(),
  method: text("method").notNull(),
  spec: json("spec").$type<Record<string, unknown>>().notNull(),
  active: boolean("active").notNull(),
  version: integer("version").notNull(),
  createdAt: ms("created_at").notNull(),
  updatedAt: ms("updated_at").notNull(),
});

export const triggers = pgTable("triggers", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  name: text("name").notNull(),
  description: text("description"),
  type: text("type").notNull(),
  routeId: text("route_id").notNull(),
  config: json("config").$type<Record<string, unknown>>().notNull(),
  active: boolean("active").notNull(),
  createdAt: ms("created_at").notNull(),
  updatedAt: ms("updated_at").notNull(),
});

export const triggerState = pgTable("trigger_state", {
  triggerId: text("trigger_id").primaryKey(),
  cursor: text("cursor"),
  fence: ms("fence").notNull(),
  status: json("status").$type<Record<string, unknown>>().notNull(),
  secrets: json("secrets").$type<Record<string, string>>().notNull(),
  lastRunAt: ms("last_run_at"),
  nextRunAt: ms("next_run_at"),
  lastError: text("last_error"),
  eventsEmitted: ms("events_emitted").notNull(),
  updatedAt: ms("updated_at").notNull(),
});
