/**
 * A loopback JSON API whose content a test changes, for the polling trigger: answers with the
 * current body, an ETag and Last-Modified (304 on a matching conditional request), logs every
 * request, and can be told to answer the next requests with a given status (401, 429 with
 * Retry-After, 503, 500). With `introspect` set, a bearer token is accepted only when the real
 * OAuth2 server says it is active.
 */
export interface ApiRequest {
  at: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface JsonApi {
  url: string;
  requests: ApiRequest[];
  /** Replaces the content; a new ETag and Last-Modified (one second later) come with it. */
  set(content: unknown): void;
  /** The next answers, in order, instead of the content. */
  fail(...answers: Array<{ status: number; headers?: Record<string, string> }>): void;
  /** Called on every request before it is answered (e.g. to kill the node mid-poll). */
  onRequest?: (r: ApiRequest) => void | Promise<void>;
  /** Bearer tokens seen, in order of first use. */
  tokens(): string[];
  close(): Promise<void>;
}

export function startJsonApi(opts: {
  content?: unknown;
  etag?: boolean;
  lastModified?: boolean;
  introspect?: { url: string; clientId: string; clientSecret: string };
} = {}): JsonApi {
  let body = JSON.stringify(opts.content ?? {});
  let version = 1;
  let modified = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
  const requests: ApiRequest[] = [];
  const failures: Array<{ status: number; headers?: Record<string, string> }> = [];
  const seen: string[] = [];
  const api: JsonApi = {
    url: "",
    requests,
    set(content) {
      body = JSON.stringify(content);
      version++;
      modified = new Date(modified.getTime() + 1000);
    },
    fail(...answers) {
      failures.push(...answers);
    },
    tokens: () => [...seen],
    close: () => server.shutdown(),
  };

  async function active(token: string): Promise<boolean> {
    const i = opts.introspect!;
    const r = await fetch(i.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${i.clientId}:${i.clientSecret}`)}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    return (await r.json()).active === true;
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    const r: ApiRequest = {
      at: Date.now(),
      method: req.method,
      url: req.url,
      headers,
      body: await req.text(),
    };
    requests.push(r);
    await api.onRequest?.(r);
    const bearer = headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    if (bearer && !seen.includes(bearer)) seen.push(bearer);
    const forced = failures.shift();
    if (forced) {
      return new Response(JSON.stringify({ error: `forced ${forced.status}` }), {
        status: forced.status,
        headers: { "content-type": "application/json", ...forced.headers },
      });
    }
    if (opts.introspect && (!bearer || !(await active(bearer)))) {
      return new Response('{"error":"invalid_token"}', { status: 401 });
    }
    const etag = `"v${version}"`;
    const lm = modified.toUTCString();
    const validators: Record<string, string> = {};
    if (opts.etag) validators.etag = etag;
    if (opts.lastModified) validators["last-modified"] = lm;
    if (opts.etag && headers["if-none-match"] === etag) {
      return new Response(null, { status: 304, headers: validators });
    }
    if (
      opts.lastModified && headers["if-modified-since"] &&
      Date.parse(headers["if-modified-since"]) >= modified.getTime()
    ) {
      return new Response(null, { status: 304, headers: validators });
    }
    return new Response(body, {
      headers: { "content-type": "application/json", ...validators },
    });
  });
  api.url = `http://127.0.0.1:${server.addr.port}`;
  return api;
}
