/** An admin creates a user: username, password, role. */
import { useState } from "preact/hooks";
import { SelectField, TextField } from "./fields.tsx";
import { SaveRow } from "./save_row.tsx";
import { useSave } from "./use_save.ts";

const FIELDS = ["username", "password", "role"] as const;

export function UserForm() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("user");
  const { busy, errors, alert, send } = useSave(FIELDS);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await send("POST", "/api/users", { username, password, role });
    if (r.ok) location.reload();
  };
  return (
    <form class="stack" onSubmit={submit} aria-label="New user">
      <TextField
        id="user-username"
        label="Username"
        value={username}
        onInput={setUsername}
        required
        autocomplete="off"
        error={errors.username}
      />
      <TextField
        id="user-password"
        label="Password"
        type="password"
        value={password}
        onInput={setPassword}
        required
        autocomplete="new-password"
        error={errors.password}
        hint="At least 8 characters."
      />
      <SelectField
        id="user-role"
        label="Role"
        value={role}
        options={[["user", "user"], ["admin", "admin"]]}
        onChange={setRole}
        error={errors.role}
      />
      <SaveRow label="Create user" busy={busy} alert={alert} />
    </form>
  );
}
