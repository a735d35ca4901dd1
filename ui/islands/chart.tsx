/**
 * Events per minute as a line chart: received, delivered, dead. The lines are an SVG stretched
 * to the box (strokes keep their width); the labels are HTML, so they stay readable at any
 * width. No chart library.
 */
export interface SeriesPoint {
  t: string;
  received: number;
  delivered: number;
  dead: number;
}

const W = 600, H = 100;
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
  const x = (i: number) => (i / n) * W;
  const y = (v: number) => 1 + (1 - v / max) * (H - 2);
  const totals = KEYS.map((k) => `${points.reduce((a, p) => a + p[k], 0)} ${k}`).join(", ");
  return (
    <figure class="chart">
      <div class="plot">
        <div class="yaxis" aria-hidden="true">
          <span>{max}</span>
          <span>{max / 2}</span>
          <span>0</span>
        </div>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${caption}: ${totals}`}
        >
          {[0, 0.5, 1].map((f) => (
            <line key={f} class="axis" x1={0} x2={W} y1={y(max * f)} y2={y(max * f)} />
          ))}
          {KEYS.map((k) => (
            <polyline
              key={k}
              class={k}
              points={points.map((p, i) => `${x(i).toFixed(1)},${y(p[k]).toFixed(2)}`).join(" ")}
            />
          ))}
        </svg>
      </div>
      {points.length
        ? (
          <div class="xaxis" aria-hidden="true">
            <span>{hhmm(points[0].t)}</span>
            <span>{hhmm(points[points.length - 1].t)} UTC</span>
          </div>
        )
        : null}
      <figcaption>
        <ul class="legend">
          {KEYS.map((k) => <li key={k} class={k}>{k}</li>)}
        </ul>
      </figcaption>
    </figure>
  );
}
