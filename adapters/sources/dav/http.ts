/**
 * The fetch a CalDAV/CardDAV source hands to tsdav: the trigger's guarded fetch with the
 * trigger's credentials (Basic, a bearer token, or OAuth2 tokens fetched again once when the
 * server answers 401), a deadline per request, and a bound on how much of an answer is read
 * (a server cannot make the node buffer without limit).
 */
import type { SourceContext } from "../../../core/ports.ts";
import type { SourceTokens } from "../oauth2.ts";

export interface DavAuth {
  basic?: { username: string; password: string };
  bearer?: string;
  tokens?: SourceTokens | null;
}

export class DavHttpError extends Error {
  override name = "DavHttpError";
}

function limited(res: Response, maxBytes: number, url: string): Response {
  if (!res.body) return res;
  let seen = 0;
  const cut = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      seen += chunk.length;
      if (seen > maxBytes) {
        ctl.error(new DavHttpError(`answer of ${url} is larger than ${maxBytes} bytes`));
      } else ctl.enqueue(chunk);
    },
  });
  return new Response(res.body.pipeThrough(cut), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

export function davFetch(
  ctx: SourceContext,
  auth: DavAuth,
  opts: { timeoutMs: number; maxAnswerBytes: number; signal: AbortSignal },
): typeof fetch {
  const authorize = async (headers: Headers, fresh: boolean) => {
    if (auth.tokens) {
      if (fresh) auth.tokens.invalidate();
      const t = await auth.tokens.token(opts.timeoutMs);
      headers.set("authorization", `Bearer ${t}`);
    } else if (auth.bearer !== undefined) {
      headers.set("authorization", `Bearer ${auth.bearer}`);
    } else if (auth.basic) {
      const { username, password } = auth.basic;
      const bytes = new TextEncoder().encode(`${username}:${password}`);
      headers.set("authorization", `Basic ${btoa(String.fromCharCode(...bytes))}`);
    }
  };
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : null;
    const send = async (fresh: boolean) => {
      const headers = new Headers(req.headers);
      await authorize(headers, fresh);
      const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
      try {
        return await ctx.outbound.fetch(req.url, {
          method: req.method,
          headers,
          body,
          redirect: req.redirect,
          signal,
        });
      } catch (e) {
        if (opts.signal.aborted) throw e;
        const why = signal.aborted ? `no answer within ${opts.timeoutMs} ms` : String(
          (e as Error)?.message ?? e,
        );
        throw new DavHttpError(`${req.method} ${req.url} failed: ${why}`);
      }
    };
    let res = await send(false);
    if (res.status === 401 && auth.tokens) {
      await res.body?.cancel();
      res = await send(true);
    }
    return limited(res, opts.maxAnswerBytes, req.url);
  };
}
