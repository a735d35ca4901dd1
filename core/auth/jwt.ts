/** Session tokens: HS256 JWTs (jose) with expiry and a jti that logout revokes. */
import { jwtVerify, SignJWT } from "jose";
import type { Role } from "../model/user.ts";

export interface Claims {
  sub: string;
  role: Role;
  jti: string;
  exp: number; // seconds
  mcp: boolean; // must change password
}

export async function signToken(
  secret: Uint8Array,
  c: { sub: string; role: Role; mcp: boolean },
  ttlSeconds: number,
) {
  const jti = crypto.randomUUID();
  const token = await new SignJWT({ role: c.role, mcp: c.mcp })
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
    if (!payload.sub || !payload.jti || !payload.exp) return null;
    return {
      sub: payload.sub,
      jti: payload.jti,
      exp: payload.exp,
      role: payload.role === "admin" ? "admin" : "user",
      mcp: payload.mcp === true,
    };
  } catch {
    return null;
  }
}
