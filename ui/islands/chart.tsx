/** Events per minute as an SVG line chart: received, delivered, dead. No chart library. */
export interface SeriesPoint {
  t: string;
  received: number;
  delivered: number;
  dead: number;
}

const W = 640, H = 200, L = 40, R = 8, T = 10, B = 24;
const KEYS = ["received", "delivered", "dead"] as const;

function niceMax(v: number) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const hhmm = (iso: string) => iso.slice(11, 16);

export function Chart({ points, caption }: { points: SeriesPoint[]; caption: string }) {
  const max = niceMax(Math.max(0, ...points.flatMap((p) => KEYS.map((k) => p[k]))));
  const n = Math.max(1, points.length - 1);
  const x = (i: number) => L + (i / n) * (W - L - R);
  const y = (v: number) => T + (1 - v / max) * (H - T - B);
  const totals = KEYS.map((k) => `${points.reduce((a, p) => a + p[k], 0)} ${k}`).join(", ");
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${caption}: ${totals}`}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line class="axis" x1={L} x2={W - R} y1={y(max * f)} y2={y(max * f)} />
            <text x={L - 6} y={y(max * f) + 4} text-anchor="end">{Math.round(max * f)}</text>
          </g>
        ))}
        {points.length
          ? (
            <>
              <text x={L} y={H - 6}>{hhmm(points[0].t)}</text>
              <text x={W - R} y={H - 6} text-anchor="end">
                {hhmm(points[points.length - 1].t)} UTC
              </text>
            </>
          )
          : null}
        {KEYS.map((k) => (
          <polyline
            key={k}
            class={k}
            points={points.map((p, i) => `${x(i).toFixed(1)},${y(p[k]).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption>
        <ul class="legend">
          {KEYS.map((k) => <li key={k} class={k}>{k}</li>)}
        </ul>
      </figcaption>
    </figure>
  );
}
