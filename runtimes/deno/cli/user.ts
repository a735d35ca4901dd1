/** `event-router user add|passwd|list`: user management without the API (first setup, lockout). */
import type { Store } from "../../../core/store.ts";
import { hashPassword } from "../../../core/auth/password.ts";
import { newId } from "../../../core/model/ids.ts";
import { passwordSchema, usernameSchema } from "../../../core/model/user.ts";

const HELP = `Usage:
  event-router user add <username> [--role admin|user]   (password read from stdin or prompted)
  event-router user passwd <username>                    (new password from stdin or prompted)
  event-router user list`;

async function readPassword(): Promise<string> {
  if (Deno.stdin.isTerminal()) {
    const p = prompt("password:");
    return p ?? "";
  }
  const text = await new Response(Deno.stdin.readable).text();
  return text.split("\n")[0].trim();
}

export async function userCommand(
  args: string[],
  help: boolean,
  open: () => Promise<Store>,
): Promise<number> {
  const [action, name, ...rest] = args.filter((a) => a !== "--help" && a !== "-h");
  if (help || !action) return (console.log(HELP), help ? 0 : 2);
  const store = await open();
  try {
    if (action === "list") {
      const page = await store.listUsers({ limit: 500, offset: 0 });
      for (const u of page.items) {
        console.log(
          `${u.id}\t${u.username}\t${u.role}${
            u.mustChangePassword ? "\t(must change password)" : ""
          }`,
        );
      }
      return 0;
    }
    const username = usernameSchema.safeParse(name);
    if (!username.success) {
      console.error(`username "${name ?? ""}" is invalid: ${username.error.issues[0].message}`);
      return 2;
    }
    const password = passwordSchema.safeParse(await readPassword());
    if (!password.success) {
      console.error(`password is invalid: ${password.error.issues[0].message}`);
      return 2;
    }
    if (action === "add") {
      const roleIdx = rest.indexOf("--role");
      const role = roleIdx >= 0 ? rest[roleIdx + 1] : "user";
      if (role !== "admin" && role !== "user") {
        console.error(`--role ${role} is invalid: must be admin or user`);
        return 2;
      }
      if (await store.getUserByName(username.data)) {
        console.error(`user ${username.data} already exists`);
        return 1;
      }
      const now = Date.now();
      await store.createUser({
        id: newId("user"),
        username: username.data,
        passwordHash: await hashPassword(password.data),
        role,
        mustChangePassword: false,
        createdAt: now,
        updatedAt: now,
      });
      console.log(`user ${username.data} added (${role})`);
      return 0;
    }
    if (action === "passwd") {
      const u = await store.getUserByName(username.data);
      if (!u) {
        console.error(`user ${username.data} not found`);
        return 1;
      }
      await store.updateUser(u.id, {
        passwordHash: await hashPassword(password.data),
        mustChangePassword: false,
      });
      console.log(`password of ${username.data} changed`);
      return 0;
    }
    console.error(`unknown user action "${action}"\n${HELP}`);
    return 2;
  } finally {
    await store.close();
  }
}
