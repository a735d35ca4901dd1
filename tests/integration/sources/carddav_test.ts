/**
 * The CardDAV source against the real Radicale, through the source harness. The sync logic
 * is the CalDAV one (adapters/sources/dav, tested at length in caldav_test.ts); this proves
 * the address-book side: discovery, addressbook-multiget, vCard parsing.
 */
import assert from "node:assert/strict";
import { carddavSourceFactory } from "../../../adapters/sources/carddav/source.ts";
import { bodyOf, pollOnce } from "../../helpers/source_tests.ts";
import { davConfig, davSettings, vcard, withCollection } from "../../helpers/dav.ts";
import { needs } from "../../helpers/peers.ts";

const opts = needs("DAV_URL", "DAV_USER", "DAV_PASSWORD");

Deno.test(
  "carddav: a card created, changed and deleted gives three events in order",
  opts,
  () =>
    withCollection("addressbook", async (h, book) => {
      // Found from the server root by the address book's display name.
      const cfg = davConfig(davSettings().url, { addressbook: book.name });
      const poll = () => pollOnce(h, carddavSourceFactory, cfg, "trigger_card");
      assert.equal((await poll()).emitted, 0);
      const put = await book.put(
        "bob.vcf",
        vcard("bob-1", "Dr. Bob Example", [
          "N:Example;Bob;;Dr.;",
          "EMAIL;TYPE=work,pref:bob@example.org",
          "EMAIL;TYPE=home:bob@home.example",
          "TEL;TYPE=cell:+49 170 000000",
          "ORG:Acme;Sales",
          "TITLE:Buyer",
          "ADR;TYPE=work:;;Main St 1;Berlin;;10115;Germany",
        ]),
      );
      assert.equal((await poll()).emitted, 1);
      assert.equal((await poll()).emitted, 0);
      await book.update("bob.vcf", vcard("bob-1", "Bob Example", ["ORG:Acme"]));
      assert.equal((await poll()).emitted, 1);
      await book.remove("bob.vcf");
      assert.equal((await poll()).emitted, 1);
      // A restarted node (a new source on the same cursor) emits nothing again.
      assert.deepEqual(await poll(), { emitted: 0, duplicates: 0, ids: [] });

      const bodies = (await h.events()).map(bodyOf);
      assert.deepEqual(bodies.map((b) => b.action), ["created", "updated", "deleted"]);
      const c = bodies[0];
      assert.equal(c.href, put.url);
      assert.equal(c.etag, put.etag);
      assert.equal(c.uid, "bob-1");
      assert.equal(c.object.full_name, "Dr. Bob Example");
      assert.deepEqual(c.object.name, {
        family: "Example",
        given: "Bob",
        additional: "",
        prefix: "Dr.",
        suffix: "",
      });
      assert.deepEqual(c.object.emails, [
        { value: "bob@example.org", types: ["work", "pref"] },
        { value: "bob@home.example", types: ["home"] },
      ]);
      assert.deepEqual(c.object.phones, [{ value: "+49 170 000000", types: ["cell"] }]);
      assert.equal(c.object.organization, "Acme");
      assert.deepEqual(c.object.organization_units, ["Sales"]);
      assert.equal(c.object.title, "Buyer");
      assert.equal(c.object.addresses[0].locality, "Berlin");
      assert.match(c.raw, /^BEGIN:VCARD\r\n/);
      assert.equal(bodies[1].object.full_name, "Bob Example");
      assert.deepEqual(bodies[1].object.organization_units, []);
      assert.equal(bodies[2].object, null);
      assert.equal((await h.events())[0].headers["x-trigger-type"], "carddav");
    }),
);

Deno.test(
  "carddav: a card the parser cannot fully read is an event with parse_error",
  opts,
  () =>
    withCollection("addressbook", async (h, book) => {
      // Radicale stores it; ical.js cannot read the birthday.
      await book.put(
        "odd.vcf",
        vcard("odd", "Odd Person", ["BDAY:not-a-date", "EMAIL:odd@example.org"]),
      );
      const r = await pollOnce(
        h,
        carddavSourceFactory,
        davConfig(book.url, { emit_existing: true }),
        "trigger_odd",
      );
      assert.equal(r.emitted, 1);
      const [b] = (await h.events()).map(bodyOf);
      assert.match(b.parse_error, /cannot read vCard: BDAY:/);
      assert.equal(b.object.birthday, null);
      assert.equal(b.object.full_name, "Odd Person");
      assert.deepEqual(b.object.emails, [{ value: "odd@example.org", types: [] }]);
    }),
);
