/** drizzle table definitions for the entity tables (mirror migrations 1 and 3). */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  username: text("username").notNull(),
  passwordHash: text("password_hash").notNull(),
  role: text("role").$type<"admin" | "user">().notNull(),
  mustChangePassword: integer("must_change_password", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const destinations = sqliteTable("destinations", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  name: text("name").notNull(),
  type: text("type").notNull(),
  config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  retry: text("retry", { mode: "json" }).$type<Record<string, unknown> | null>(),
  active: integer("active", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const routes = sqliteTable("routes", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  name: text("name").notNull(),
  endpoint: text("endpoint").notNull(),
  method: text("method").notNull(),
  spec: text("spec", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  active: integer("active", { mode: "boolean" }).notNull(),
  version: integer("version").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const triggers = sqliteTable("triggers", {
  id: text("id").primaryKey(),
  owner: text("owner").notNull(),
  name: text("name").notNull(),
  description: text("description"),
  type: text("type").notNull(),
  routeId: text("route_id").notNull(),
  config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  active: integer("active", { mode: "boolean" }).notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const triggerState = sqliteTable("trigger_state", {
  triggerId: text("trigger_id").primaryKey(),
  cursor: text("cursor"),
  fence: integer("fence").notNull(),
  status: text("status", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  secrets: text("secrets", { mode: "json" }).$type<Record<string, string>>().notNull(),
  lastRunAt: integer("last_run_at"),
  nextRunAt: integer("next_run_at"),
  lastError: text("last_error"),
  eventsEmitted: integer("events_emitted").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
