/**
 * CalDAV/CardDAV with bearer tokens and OAuth2: Radicale behind an OAuth2-protected gateway
 * (tests/helpers/dav_gateway.ts) that checks every token at the real test OAuth2 server.
 */
import assert from "node:assert/strict";
import { caldavSourceFactory } from "../../../adapters/sources/caldav/source.ts";
import { carddavSourceFactory } from "../../../adapters/sources/carddav/source.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";
import { freshCollection, vcard, vevent } from "../../helpers/dav.ts";
import { davGateway } from "../../helpers/dav_gateway.ts";
import { mustPeer, needs } from "../../helpers/peers.ts";
import type { Outbound } from "../../../core/ports.ts";
import { openOutbound } from "../../../runtimes/deno/outbound.ts";

const opts = needs("DAV_URL", "OAUTH2_TOKEN_URL", "OAUTH2_INTROSPECTION_URL");
const signal = () => new AbortController().signal;

/** Records the access tokens the token endpoint hands out. */
function watchingOutbound() {
  const tokens: string[] = [];
  const outbound: Outbound = {
    ...openOutbound(),
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (new Request(input, init).url === mustPeer("OAUTH2_TOKEN_URL")) {
        const body = await res.clone().json().catch(() => ({}));
        if (body.access_token) tokens.push(body.access_token);
      }
      return res;
    },
  };
  return { outbound, tokens };
}

async function revoke(token: string): Promise<void> {
  const auth = btoa(`${mustPeer("OAUTH2_CLIENT_ID")}:${mustPeer("OAUTH2_CLIENT_SECRET")}`);
  const r = await fetch(mustPeer("OAUTH2_REVOCATION_URL"), {
    method: "POST",
    headers: {
      authorization: `Basic ${auth}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ token }).toString(),
  });
  await r.body?.cancel();
  assert.ok(r.ok, `revocation answered ${r.status}`);
}

Deno.test(
  "caldav oauth2: client-credentials tokens; a refused token is fetched again once",
  opts,
  async () => {
    const gw = davGateway();
    const h = await sourceHarness();
    const cal = await freshCollection("calendar");
    const { outbound, tokens } = watchingOutbound();
    try {
      const config = caldavSourceFactory.parseConfig({
        url: new URL(new URL(cal.url).pathname, gw.url).href,
        oauth2: {
          token_url: mustPeer("OAUTH2_TOKEN_URL"),
          client_id: mustPeer("OAUTH2_CLIENT_ID"),
          client_secret: mustPeer("OAUTH2_CLIENT_SECRET"),
        },
      });
      const ctx = h.context("trigger_caloauth", "caldav", { outbound });
      const source = caldavSourceFactory.create(config, ctx);
      await source.poll!(signal());
      assert.equal(tokens.length, 1);
      await cal.put("a.ics", vevent("a", "A"));
      assert.equal((await source.poll!(signal())).emitted, 1);
      // The cached token is revoked: the gateway answers 401, the source fetches a new token
      // and retries the request.
      await revoke(tokens[0]);
      await cal.put("b.ics", vevent("b", "B"));
      assert.equal((await source.poll!(signal())).emitted, 1);
      assert.equal(tokens.length, 2);
    } finally {
      await cal.drop();
      await h.close();
      await gw.close();
    }
  },
);

Deno.test("carddav: a bearer token works; a wrong one is the trigger's 401", opts, async () => {
  const gw = davGateway();
  const h = await sourceHarness();
  const book = await freshCollection("addressbook");
  try {
    const cc = await fetch(mustPeer("OAUTH2_TOKEN_URL"), {
      method: "POST",
      headers: {
        authorization: `Basic ${
          btoa(`${mustPeer("OAUTH2_CLIENT_ID")}:${mustPeer("OAUTH2_CLIENT_SECRET")}`)
        }`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    }).then((r) => r.json());
    const url = new URL(new URL(book.url).pathname, gw.url).href;
    await book.put("c.vcf", vcard("c", "Carol"));
    const ok = h.create(
      carddavSourceFactory,
      { url, token: cc.access_token, emit_existing: true },
      "trigger_bearer",
    );
    assert.equal((await ok.source.poll!(signal())).emitted, 1);
    const bad = h.create(carddavSourceFactory, { url, token: "not-a-token" }, "trigger_bearer_bad");
    await assert.rejects(bad.source.poll!(signal()), /401/);
    assert.match(String(h.statuses.get("trigger_bearer_bad")?.last_error), /401/);
  } finally {
    await book.drop();
    await h.close();
    await gw.close();
  }
});
