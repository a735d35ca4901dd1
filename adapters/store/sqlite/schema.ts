/** drizzle table definitions for the entity tables (mirrors migration 1). */
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
