/** Session tokens: HS256 JWTs (jose) with expiry and a jti that logout revokes. */
import { jwtVerify, SignJWT } from "jose";
import type { Role } from "../model/user.ts";

export interface Claims {
  sub: string;
  role: Role;
  jti: string;
  exp: number; // seconds
  mcp: boolean; // must change password
  /** Fingerprint of the password hash the session was opened with (passwordVersion). */
  pwv: string;
}

/**
 * A short fingerprint of a password hash. Tokens carry the one of the password they were
 * issued under; a changed password (by its owner, an admin or the CLI) changes it, so every
 * session of that user ends at once without a list of tokens to revoke.
 */
export async function passwordVersion(passwordHash: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(passwordHash));
  return btoa(String.fromCharCode(...new Uint8Array(d).subarray(0, 12)))
    .replace(/\+/g, "-").replace(/\//g, "_");
}

export async function signToken(
  secret: Uint8Array,
  c: { sub: string; role: Role; mcp: boolean; pwv: string },
  ttlSeconds: number,
) {
  const jti = crypto.randomUUID();
  const token = await new SignJWT({ role: c.role, mcp: c.mcp, pwv: c.pwv })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(c.sub)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .setIssuer("event-router")
    .sign(secret);
  return { token, jti, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
}

export async function verifyToken(secret: Uint8Array, token: string): Promise<Claims | null> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ["HS256"],
      issuer: "event-router",
    });
    if (!payload.sub || !payload.jti || !payload.exp || typeof payload.pwv !== "string") {
      return null;
    }
    return {
      sub: payload.sub,
      jti: payload.jti,
      exp: payload.exp,
      role: payload.role === "admin" ? "admin" : "user",
      mcp: payload.mcp === true,
      pwv: payload.pwv,
    };
  } catch {
    return null;
  }
}
