/**
 * IMAP, CalDAV and CardDAV connections a tenant's trigger causes go through the address
 * guard: with the guard a non-admin gets (no private networks), the real loopback servers are
 * refused before anything is sent, and the trigger shows why.
 */
import assert from "node:assert/strict";
import { imapSourceFactory } from "../../../adapters/sources/imap/source.ts";
import { caldavSourceFactory } from "../../../adapters/sources/caldav/source.ts";
import { carddavSourceFactory } from "../../../adapters/sources/carddav/source.ts";
import { createOutbound } from "../../../runtimes/deno/outbound.ts";
import { createAddressPolicy } from "../../../core/net/policy.ts";
import { sourceHarness } from "../../helpers/source_harness.ts";
import { imapConfig } from "../../helpers/imap.ts";
import { davSettings } from "../../helpers/dav.ts";
import { needs } from "../../helpers/peers.ts";
import { until } from "../../helpers/until.ts";

const signal = () => new AbortController().signal;

Deno.test("guard: a tenant's IMAP trigger cannot reach a loopback server", {
  ...needs("IMAP_HOST", "IMAP_PORT"),
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const h = await sourceHarness();
  const outbound = createOutbound(createAddressPolicy({}));
  try {
    const ctx = h.context("trigger_guard_imap", "imap", { outbound });
    const source = imapSourceFactory.create(
      imapSourceFactory.parseConfig(imapConfig("INBOX")),
      ctx,
    );
    await assert.rejects(
      source.poll!(signal()),
      /refusing to connect to 127\.0\.0\.1: .* is loopback/,
    );
    const ctl = new AbortController();
    const done = source.start!(ctl.signal);
    await until("the refusal to show", () => h.statuses.get("trigger_guard_imap")?.last_error);
    assert.match(
      String(h.statuses.get("trigger_guard_imap")?.last_error),
      /loopback|private|refus/i,
    );
    ctl.abort();
    await done;
  } finally {
    await outbound.close();
    await h.close();
  }
});

Deno.test("guard: a tenant's CalDAV and CardDAV triggers cannot reach a loopback server", {
  ...needs("DAV_URL", "DAV_USER", "DAV_PASSWORD"),
}, async () => {
  const h = await sourceHarness();
  const outbound = createOutbound(createAddressPolicy({}));
  const s = davSettings();
  try {
    for (const factory of [caldavSourceFactory, carddavSourceFactory]) {
      const id = `trigger_guard_${factory.type}`;
      const ctx = h.context(id, factory.type, { outbound });
      const config = factory.parseConfig({
        url: s.url,
        username: s.username,
        password: s.password,
      });
      const source = factory.create(config as never, ctx);
      await assert.rejects(
        source.poll!(signal()),
        /refusing to connect to 127\.0\.0\.1: .* is loopback/,
      );
      assert.equal(h.statuses.get(id)?.state, "error");
    }
    assert.equal((await h.events()).length, 0);
  } finally {
    await outbound.close();
    await h.close();
  }
});
