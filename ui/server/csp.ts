/**
 * The pages' Content-Security-Policy: this origin only, no inline script, no inline style, no
 * framing. Swagger UI on /docs sets styles through the DOM (allowed) and draws icons from
 * data: URLs, hence `img-src data:`.
 */
import { secureHeaders } from "hono/secure-headers";

export const pageHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
      manifestSrc: ["'self'"],
    },
    referrerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
  });
