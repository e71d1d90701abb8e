// Uptime bars and latency lines as inline SVG, built with DOM calls (no markup strings).
// A row's bar is four <path>s (up, partly up, down, no data) however many windows it
// has, so a thousand rows of 90 windows stay a few thousand nodes, not 90,000.

const SVG = 'http://www.w3.org/2000/svg';

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** 'up' | 'partial' | 'down' | 'none' for an availability 0..1 or null. */
export function availabilityClass(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'none';
  if (value >= 0.999) return 'up';
  return value > 0 ? 'partial' : 'down';
}

/** "99.95%", or "—" when nothing is known. */
export function percent(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return `${value >= 99.995 || value === 0 ? value.toFixed(0) : value.toFixed(2)}%`;
}

/**
 * @param {Array<number|null>} values availability 0..1 per window, oldest first
 * @param {{ label: string, width?: number, height?: number }} options
 * @returns {SVGSVGElement}
 */
export function uptimeBar(values, { label, width = 180, height = 16 }) {
  const count = Math.max(values.length, 1);
  const step = width / count;
  const gap = step > 2 ? Math.min(1, step / 4) : 0;
  const paths = { up: [], partial: [], down: [], none: [] };
  values.forEach((value, i) => {
    const x = (i * step).toFixed(2);
    paths[availabilityClass(value)].push(`M${x} 0h${(step - gap).toFixed(2)}v${height}h-${(step - gap).toFixed(2)}z`);
  });
  const root = svg('svg', {
    class: 'uptime-bar',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': label,
  });
  const title = svg('title', {});
  title.textContent = label;
  root.append(title);
  for (const [kind, parts] of Object.entries(paths)) {
    if (parts.length > 0) root.append(svg('path', { class: `bar-${kind}`, d: parts.join('') }));
  }
  return root;
}

/**
 * A small line of values (p50 response times per window), gaps where a window had none.
 * @param {Array<number|null>} values oldest first
 * @returns {SVGSVGElement | null} null when there is nothing to draw
 */
export function latencyLine(values, { label, width = 90, height = 16 }) {
  const known = values.filter((value) => typeof value === 'number' && Number.isFinite(value));
  if (known.length === 0) return null;
  const max = Math.max(...known);
  const min = Math.min(...known);
  const span = max - min || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (value) => (height - 1 - ((value - min) / span) * (height - 2)).toFixed(1);
  let d = '';
  let pen = false;
  values.forEach((value, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${(i * step).toFixed(1)} ${y(value)}`;
    pen = true;
  });
  // Stretched to its box (a phone's card is wider than a table cell); the stroke keeps its width.
  const root = svg('svg', {
    class: 'latency-line',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': label,
  });
  const title = svg('title', {});
  title.textContent = label;
  root.append(title, svg('path', { class: 'spark-line', fill: 'none', d, 'vector-effect': 'non-scaling-stroke' }));
  // A point with no known neighbour draws no line: a dot shows it.
  const knownAt = (i) => typeof values[i] === 'number' && Number.isFinite(values[i]);
  values.forEach((value, i) => {
    if (knownAt(i) && !knownAt(i - 1) && !knownAt(i + 1)) {
      root.append(svg('circle', { class: 'spark-last', cx: (i * step).toFixed(1), cy: y(value), r: 1.5 }));
    }
  });
  return root;
}

/** "p50 12 ms (min 8, max 40)" for a row's latency label. */
export function latencyLabel(values) {
  const known = values.filter((value) => typeof value === 'number' && Number.isFinite(value));
  if (known.length === 0) return 'no response times';
  const latest = known[known.length - 1];
  return `p50 response time per window: latest ${Math.round(latest)} ms, min ${Math.round(Math.min(...known))} ms, max ${Math.round(Math.max(...known))} ms`;
}
