import { z } from "@hono/zod-openapi";

export type Role = "admin" | "user";

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  mustChangePassword: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Who is asking: every store query is scoped by it. Admins see every tenant. */
export interface Scope {
  userId: string;
  role: Role;
}

export const usernameSchema = z.string().min(3).max(64).regex(
  /^[a-zA-Z0-9._@-]+$/,
  "may contain only letters, digits and . _ @ -",
);
/** Passwords are hashed with PBKDF2 on every login: their length is bounded. */
export const PASSWORD_MAX = 1024;
export const passwordSchema = z.string().min(8, "must be at least 8 characters").max(
  PASSWORD_MAX,
  `must be at most ${PASSWORD_MAX} characters`,
);
const givenPassword = z.string().min(1).max(
  PASSWORD_MAX,
  `must be at most ${PASSWORD_MAX} characters`,
);

export const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: givenPassword,
}).openapi("LoginRequest");
export const changePasswordBody = z.strictObject({
  current_password: givenPassword,
  new_password: passwordSchema,
}).openapi("ChangePasswordRequest");
export const createUserBody = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: z.enum(["admin", "user"]).default("user"),
}).openapi("CreateUserRequest");

export function publicUser(u: User) {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    must_change_password: u.mustChangePassword,
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
  };
}
