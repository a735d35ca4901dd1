// The Worker baseline: reads the body and answers 202, nothing else (tests/bench/edge.ts).
export default {
  async fetch(req) {
    await req.arrayBuffer();
    return new Response('{"id":"evt_x"}', {
      status: 202,
      headers: { "content-type": "application/json" },
    });
  },
};
