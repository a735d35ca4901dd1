import assert from "node:assert/strict";
import {
  renderResponse,
  type ResponseTemplate,
  responseTemplateSchema,
} from "../../core/ingress/response_template.ts";

const ctx = {
  bodyJson: {
    type: "url_verification",
    challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    items: [{ name: "first", qty: 2 }],
    nested: { ok: true, n: null },
  },
  headers: new Headers({ "X-Request-Id": "req-9", "X-Evil": "a" }),
  query: new URLSearchParams("source=slack&x=1"),
  eventId: "evt_abc123",
};
const render = (tpl: unknown) => renderResponse(responseTemplateSchema.parse(tpl), ctx);

Deno.test("response: Slack url_verification echoes the challenge as text", () => {
  assert.deepEqual(render({ body: "{{body.challenge}}" }), {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
  });
});

Deno.test("response: JSON bodies keep a whole-leaf value's type; mixed leaves are text", () => {
  const out = render({
    status: 202,
    body: {
      challenge: "{{ body.challenge }}",
      qty: "{{body.items[0].qty}}",
      flags: "{{body.nested}}",
      missing: "{{body.nope}}",
      text: "event {{event_id}} from {{query.source}}, first {{body.items.0.name}}",
      fixed: [1, true, null],
    },
  });
  assert.equal(out.status, 202);
  assert.equal(out.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(out.body), {
    challenge: ctx.bodyJson.challenge,
    qty: 2,
    flags: { ok: true, n: null },
    missing: null,
    text: "event evt_abc123 from slack, first first",
    fixed: [1, true, null],
  });
});

Deno.test("response: headers are templates; a given Content-Type wins", () => {
  const out = render({
    headers: {
      "X-Event-Id": "{{event_id}}",
      "X-Echo": "{{headers.x-request-id}}",
      "Content-Type": "text/html",
    },
    body: "<p>{{query.x}}</p>",
  });
  assert.deepEqual(out.headers, {
    "X-Event-Id": "evt_abc123",
    "X-Echo": "req-9",
    "Content-Type": "text/html",
  });
  assert.equal(out.body, "<p>1</p>");
});

Deno.test("response: sender data cannot split a header", () => {
  const out = renderResponse(
    responseTemplateSchema.parse({ headers: { "X-Echo": "{{body.v}}" } }),
    { ...ctx, bodyJson: { v: "a\r\nSet-Cookie: x=1\u0000ü€" } },
  );
  assert.equal(out.headers["X-Echo"], "aSet-Cookie: x=1ü");
  assert.doesNotThrow(() => new Headers(out.headers));
});

Deno.test("response: values are inserted as text, never evaluated", () => {
  const out = renderResponse(
    responseTemplateSchema.parse({ body: "{{body.code}}" }),
    { ...ctx, bodyJson: { code: "{{event_id}} ${globalThis} <script>" } },
  );
  assert.equal(out.body, "{{event_id}} ${globalThis} <script>");
});

Deno.test("response: missing values, no body, plain record headers and query", () => {
  const out = renderResponse(
    responseTemplateSchema.parse({ headers: { "X-Q": "{{query.a}}-{{headers.X-Missing}}" } }),
    { bodyJson: undefined, headers: { "x-a": "1" }, query: { a: "q" }, eventId: "evt_1" },
  );
  assert.deepEqual(out, { status: 200, headers: { "X-Q": "q-" }, body: "" });
  const tpl: ResponseTemplate = { body: "{{body.a.b}}|{{body.__proto__}}|{{body.constructor}}" };
  assert.equal(renderResponse(tpl, { ...ctx, bodyJson: {} }).body, "||");
});

Deno.test("response: the schema names bad templates and fields", () => {
  const cases: [unknown, RegExp][] = [
    [{ body: "{{bodyy.x}}" }, /unknown template value \{\{bodyy\.x\}\}/],
    [{ body: { a: ["{{ env.SECRET }}"] } }, /"body",\s*"a",\s*0/],
    [{ headers: { "X-A": "{{query}}" } }, /unknown template value \{\{query\}\}/],
    [{ headers: { "Bad Name": "x" } }, /must be a header name/],
    [{ headers: { "Content-Length": "5" } }, /is set by the server/],
    [{ status: 99 }, /status/],
    [{ status: 200, extra: 1 }, /Unrecognized key/],
  ];
  for (const [input, pattern] of cases) {
    const result = responseTemplateSchema.safeParse(input);
    assert.equal(result.success, false, JSON.stringify(input));
    assert.match(JSON.stringify(result.error!.issues), pattern, JSON.stringify(input));
  }
});
