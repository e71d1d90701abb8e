// A small inline-SVG line of response times, oldest on the left. Built with DOM calls
// (no markup strings), so nothing from the API is ever parsed as HTML.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 240;
const HEIGHT = 48;
const PAD = 4;

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/**
 * @param {Array<{response_time_ms: number, outcome: string}>} checks newest first, as the API returns them
 * @returns {SVGSVGElement | null} null when there is nothing to draw
 */
export function sparkline(checks) {
  const points = checks.filter((check) => Number.isFinite(check.response_time_ms)).reverse();
  if (points.length === 0) return null;
  const times = points.map((check) => check.response_time_ms);
  const max = Math.max(...times);
  const min = Math.min(...times);
  const span = max - min || 1;
  const step = points.length > 1 ? (WIDTH - 2 * PAD) / (points.length - 1) : 0;
  const x = (i) => (points.length > 1 ? PAD + i * step : WIDTH / 2);
  const y = (ms) => HEIGHT - PAD - ((ms - min) / span) * (HEIGHT - 2 * PAD);

  const latest = times[times.length - 1];
  const label =
    `Response time over the last ${points.length} check${points.length === 1 ? '' : 's'}: ` +
    `min ${Math.round(min)} ms, max ${Math.round(max)} ms, latest ${Math.round(latest)} ms`;
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img', 'aria-label': label });
  const title = svg('title', {});
  title.textContent = label;
  root.append(title);
  root.append(
    svg('polyline', {
      class: 'spark-line',
      fill: 'none',
      points: times.map((ms, i) => `${x(i).toFixed(1)},${y(ms).toFixed(1)}`).join(' '),
    }),
  );
  // Failed checks as dots: a fast failure (refused, error) would otherwise look like a good time.
  points.forEach((check, i) => {
    if (check.outcome !== 'healthy' && check.outcome !== 'degraded') {
      root.append(svg('circle', { class: 'spark-fail', cx: x(i).toFixed(1), cy: y(times[i]).toFixed(1), r: 2.5 }));
    }
  });
  root.append(svg('circle', { class: 'spark-last', cx: x(points.length - 1).toFixed(1), cy: y(latest).toFixed(1), r: 2.5 }));
  return root;
}
