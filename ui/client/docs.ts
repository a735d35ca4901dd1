/**
 * Starts Swagger UI on /docs from the node's own copy of swagger-ui-dist (no CDN). It is a
 * separate file because the page's Content-Security-Policy allows no inline script.
 */
declare const SwaggerUIBundle: (opts: Record<string, unknown>) => unknown;

SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The default validator badge fetches from another host.
  validatorUrl: null,
  // Logged-in users try calls with their cookie; bearer tokens go in "Authorize".
  withCredentials: true,
  tryItOutEnabled: false,
});
