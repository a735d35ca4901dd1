/** An admin creates a user: username, password, role. */
import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { FormAlert, SelectField, TextField } from "./fields.tsx";

const FIELDS = ["username", "password", "role"] as const;

export function UserForm() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("user");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [alert, setAlert] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await api("POST", "/api/users", { username, password, role }, FIELDS);
    setBusy(false);
    setErrors(r.fields ?? {});
    setAlert(r.ok ? undefined : r.message);
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
      <FormAlert message={alert} />
      <div class="row">
        <button type="submit" disabled={busy}>Create user</button>
      </div>
    </form>
  );
}
