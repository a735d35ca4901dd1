/**
 * Flags a command does not know are an error (exit code 2) that names the flag and the
 * nearest one it does know: `--prot 9000` must not start a node on 8080 as if all was well.
 */
import { closest, distance } from "fastest-levenshtein";

/** The message for the first flag in `args` that is not in `known`, or null. */
export function unknownFlag(
  args: readonly string[],
  known: readonly string[],
  command: string,
): string | null {
  for (const arg of args) {
    if (!/^--?[A-Za-z]/.test(arg)) continue;
    const flag = arg.replace(/=.*$/s, "");
    if (known.includes(flag)) continue;
    const near = known.length ? closest(flag, known as string[]) : undefined;
    // Only a plausible typo is suggested: a wild guess is worse than none.
    const hint = near && distance(flag, near) <= Math.max(2, Math.floor(flag.length / 3))
      ? `; did you mean ${near}?`
      : "";
    return `unknown flag ${flag} for ${command}${hint} (see event-router ${command} --help)`;
  }
  return null;
}
