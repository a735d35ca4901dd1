import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Scope } from "../model/user.ts";
import type { AppDeps } from "../app_deps.ts";
import type { Logger } from "../ports.ts";

export interface AppEnv {
  Variables: {
    scope: Scope;
    jti: string;
    exp: number;
    requestId: string;
    log: Logger;
    /** Whether the request's session still holds (not revoked, same password, user there):
     * long-lived answers (the live tail) ask again as they go. */
    sessionValid: () => Promise<boolean>;
  };
}

export type Api = OpenAPIHono<AppEnv>;
export type Mount = (app: Api, deps: AppDeps) => void;
