/** The baseline: a bare Deno.serve that reads the body and answers 202, nothing else. */
const port = Number(Deno.args[0] ?? 18500);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  await req.arrayBuffer();
  return new Response('{"id":"evt_x"}', {
    status: 202,
    headers: { "content-type": "application/json" },
  });
});
