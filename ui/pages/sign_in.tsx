/** Sign in and the forced Change password step: plain forms, no script needed. */
export function SignIn(
  { username = "", error, next }: { username?: string; error?: string; next?: string },
) {
  return (
    <div class="card">
      <h1>Sign in</h1>
      <form method="post" action="/ui/sign-in" class="stack">
        {next ? <input type="hidden" name="next" value={next} /> : null}
        <div class="field">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            type="text"
            autocomplete="username"
            required
            value={username}
            aria-invalid={error ? "true" : undefined}
            aria-describedby={error ? "sign-in-error" : undefined}
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            aria-invalid={error ? "true" : undefined}
            aria-describedby={error ? "sign-in-error" : undefined}
          />
          {error ? <p class="error" id="sign-in-error" role="alert">{error}</p> : null}
        </div>
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
        <div class="field">
          <label for="current_password">Current password</label>
          <input
            id="current_password"
            name="current_password"
            type="password"
            autocomplete="current-password"
            required
            aria-invalid={errors.current ? "true" : undefined}
            aria-describedby={errors.current ? "current-error" : undefined}
          />
          {errors.current
            ? <p class="error" id="current-error" role="alert">{errors.current}</p>
            : null}
        </div>
        <div class="field">
          <label for="new_password">New password</label>
          <input
            id="new_password"
            name="new_password"
            type="password"
            autocomplete="new-password"
            required
            minLength={8}
            aria-invalid={errors.new ? "true" : undefined}
            aria-describedby={`new-hint${errors.new ? " new-error" : ""}`}
          />
          <span class="hint" id="new-hint">At least 8 characters.</span>
          {errors.new ? <p class="error" id="new-error" role="alert">{errors.new}</p> : null}
        </div>
        {errors.form ? <p class="alert" role="alert">{errors.form}</p> : null}
        <button type="submit">Change password</button>
      </form>
    </div>
  );
}
