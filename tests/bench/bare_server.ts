/** The baseline: a bare Deno.serve that reads the body and answers 202, nothing else. */
const port = Number(Deno.args[0] ?? 18500);
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => {},
  onError: () => new Response(null, { status: 500 }),
}, async (req) => {
  // wrk closes connections mid-request when a run ends: that is not an error worth printing.
  await req.arrayBuffer().catch(() => {});
  return new Response('{"id":"evt_x"}', {
    status: 202,
    headers: { "content-type": "application/json" },
  });
});
