/** Sign in and the forced Change password step: plain forms, no script needed. */
import { describedBy, FieldNotes } from "../components/field_notes.tsx";

/**
 * A labelled input of these plain forms. `notes` names the ids of its hint and error
 * (`<notes>-hint`, `<notes>-error`); `showError: false` points at an error another field
 * shows (the sign-in form shows its one error below the password).
 */
function PlainField(
  p: {
    id: string;
    label: string;
    type: "text" | "password";
    autocomplete: string;
    value?: string;
    minLength?: number;
    notes: string;
    error?: string;
    showError?: boolean;
    hint?: string;
  },
) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        name={p.id}
        type={p.type as "text"}
        autocomplete={p.autocomplete}
        required
        minLength={p.minLength}
        value={p.value}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={describedBy(p.notes, p.error, p.hint)}
      />
      <FieldNotes
        id={p.notes}
        hint={p.hint}
        error={p.showError === false ? undefined : p.error}
      />
    </div>
  );
}

export function SignIn(
  { username = "", error, next }: { username?: string; error?: string; next?: string },
) {
  return (
    <div class="card">
      <h1>Sign in</h1>
      <form method="post" action="/ui/sign-in" class="stack">
        {next ? <input type="hidden" name="next" value={next} /> : null}
        <PlainField
          id="username"
          label="Username"
          type="text"
          autocomplete="username"
          value={username}
          notes="sign-in"
          error={error}
          showError={false}
        />
        <PlainField
          id="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          notes="sign-in"
          error={error}
        />
        <button type="submit">Sign in</button>
      </form>
    </div>
  );
}

export function ChangePassword(
  { forced, errors = {} }: {
    forced: boolean;
    errors?: { current?: string; new?: string; form?: string };
  },
) {
  return (
    <div class="card">
      <h1>Change password</h1>
      {forced
        ? <p class="muted">This account still has its first password. Choose a new one to go on.</p>
        : null}
      <form method="post" action="/ui/change-password" class="stack">
        <PlainField
          id="current_password"
          label="Current password"
          type="password"
          autocomplete="current-password"
          notes="current"
          error={errors.current}
        />
        <PlainField
          id="new_password"
          label="New password"
          type="password"
          autocomplete="new-password"
          minLength={8}
          notes="new"
          error={errors.new}
          hint="At least 8 characters."
        />
        {errors.form ? <p class="alert" role="alert">{errors.form}</p> : null}
        <button type="submit">Change password</button>
      </form>
    </div>
  );
}
