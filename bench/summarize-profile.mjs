#!/usr/bin/env node
/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time
 * with their file, the same time grouped by package/area, and the heaviest functions by
 * inclusive (total) time.
 *
 * Usage: node bench/summarize-profile.mjs <file.cpuprofile | dir> [--top 25] [--skip-ms N] [--until-ms N] [--json]
 *        (a directory means the newest .cpuprofile in it; --skip-ms ignores the first N ms
 *        of samples, e.g. the process's start-up before the load began; --until-ms ignores
 *        samples from N ms after the start on, e.g. the shutdown after the load)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function resolveProfile(path) {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files[0];
}

/** Where a function lives, shortened: node_modules/<pkg>/..., apps/..., node:internal/... */
function shortFile(url) {
  if (!url) return '';
  let file = url.replace(/^file:\/\//, '');
  const pnpm = file.lastIndexOf('/node_modules/');
  if (pnpm >= 0) return file.slice(pnpm + '/node_modules/'.length);
  if (file.startsWith(REPO)) return relative(REPO, file);
  return file;
}

/** The package or area a function belongs to. */
function areaOf(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (/^\((garbage collector|program|idle|root)\)$/.test(functionName)) return functionName;
    return '(native / V8 builtins)';
  }
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    if (pkg.startsWith('@beacon/')) return `beacon ${pkg}`;
    return pkg;
  }
  if (file.startsWith('node:')) return 'node core (js)';
  if (file.startsWith(REPO)) {
    const parts = relative(REPO, file).split('/');
    return `beacon ${parts[0]}/${parts[1]}`;
  }
  return file;
}

export function summarizeProfile(path, { top = 25, skipMs = 0, untilMs = null } = {}) {
  const file = resolveProfile(path);
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Each sample lasts until the next one (the last one until endTime).
  const { samples, timeDeltas } = profile;
  const stamps = [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) stamps.push((t += timeDeltas[i] ?? 0));
  const duration = (i) => (i + 1 < samples.length ? stamps[i + 1] - stamps[i] : Math.max(0, profile.endTime - stamps[i]));

  const keyOf = (frame) => `${frame.functionName || '(anonymous)'}\u0000${frame.url}\u0000${frame.lineNumber}`;
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  let total = 0;
  let idle = 0;
  const from = profile.startTime + skipMs * 1000;
  const to = untilMs === null ? Number.POSITIVE_INFINITY : profile.startTime + untilMs * 1000;
  for (let i = 0; i < samples.length; i++) {
    if (stamps[i] < from || stamps[i] >= to) continue;
    const us = duration(i);
    const node = byId.get(samples[i]);
    if (!node) continue;
    total += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = keyOf(frame);
    const entry = self.get(key) ?? { frame, us: 0 };
    entry.us += us;
    self.set(key, entry);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      if (f.functionName === '(root)') break;
      const k = keyOf(f);
      if (seen.has(k)) continue;
      seen.add(k);
      const e = inclusive.get(k) ?? { frame: f, us: 0 };
      e.us += us;
      inclusive.set(k, e);
    }
  }
  const busy = total - idle;
  const row = ({ frame, us }) => ({
    function: frame.functionName || '(anonymous)',
    file: frame.url ? `${shortFile(frame.url)}:${frame.lineNumber + 1}` : '',
    area: areaOf(frame),
    ms: Math.round(us / 100) / 10,
    pct_busy: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0,
  });
  return {
    file,
    skipped_ms: skipMs,
    until_ms: untilMs,
    total_ms: Math.round(total / 1000),
    idle_ms: Math.round(idle / 1000),
    busy_ms: Math.round(busy / 1000),
    top_self: [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(row),
    by_area: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ms: Math.round(us / 1000), pct_busy: Math.round((us / busy) * 1000) / 10 })),
    top_inclusive: [...inclusive.values()]
      .filter(({ frame }) => frame.url && !frame.url.startsWith('node:'))
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(row),
  };
}

function table(rows, columns) {
  const widths = columns.map(([title, get]) => Math.max(title.length, ...rows.map((r) => String(get(r)).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [
    line(columns.map(([t]) => t)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map(([, get]) => get(r)))),
  ].join('\n');
}

/**
 * Two profiles' CPU by area side by side, per unit of work (`perUnit(profile, ms)`), the
 * first profile's biggest areas first; areas under `minimum` in both are left out.
 */
export function areasSideBySide(first, second, perUnit, { minimum, digits }) {
  const areas = new Map();
  for (const [index, profile] of [first, second].entries()) {
    for (const { area, ms } of profile.summary.by_area) {
      const entry = areas.get(area) ?? [0, 0];
      entry[index] = perUnit(profile, ms);
      areas.set(area, entry);
    }
  }
  return [...areas.entries()]
    .sort((a, b) => b[1][0] - a[1][0])
    .filter(([, [a, b]]) => a >= minimum || b >= minimum)
    .map(([area, [a, b]]) => [area, a.toFixed(digits), b.toFixed(digits)]);
}

export function formatSummary(summary, { title = 'CPU profile', inclusive = 15 } = {}) {
  const out = [];
  out.push(`${title}: ${relative(process.cwd(), summary.file) || summary.file}`);
  const skipped =
    (summary.skipped_ms ? ` after skipping the first ${summary.skipped_ms} ms (start-up)` : '') +
    (summary.until_ms !== null && summary.until_ms !== undefined ? ` up to ${summary.until_ms} ms after the start` : '');
  out.push(
    `sampled ${summary.total_ms} ms${skipped}: busy ${summary.busy_ms} ms, idle ${summary.idle_ms} ms (the main thread waiting for I/O)`,
  );
  out.push('');
  out.push(
    '(time inside native add-ons, e.g. better-sqlite3 statements, and blocking syscalls counts as self time of the JS function that called them)',
  );
  out.push('');
  out.push(`Top ${summary.top_self.length} functions by self time (% of busy time):`);
  out.push(
    table(summary.top_self, [
      ['self ms', (r) => r.ms.toFixed(1)],
      ['%', (r) => r.pct_busy.toFixed(1)],
      ['function', (r) => r.function.slice(0, 48)],
      ['file', (r) => r.file],
    ]),
  );
  out.push('');
  out.push('Self time by package / area:');
  out.push(
    table(summary.by_area.slice(0, 20), [
      ['ms', (r) => r.ms],
      ['%', (r) => r.pct_busy.toFixed(1)],
      ['area', (r) => r.area],
    ]),
  );
  if (inclusive > 0) {
    out.push('');
    out.push(`Top ${inclusive} app/library functions by inclusive time (self + callees, % of busy time):`);
    out.push(
      table(summary.top_inclusive.slice(0, inclusive), [
        ['total ms', (r) => r.ms.toFixed(1)],
        ['%', (r) => r.pct_busy.toFixed(1)],
        ['function', (r) => r.function.slice(0, 48)],
        ['file', (r) => r.file],
      ]),
    );
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const path = args.find((a, i) => !a.startsWith('--') && !['--top', '--skip-ms', '--until-ms'].includes(args[i - 1]));
  if (!path) {
    process.stderr.write(
      'usage: node bench/summarize-profile.mjs <file.cpuprofile | dir> [--top 25] [--skip-ms N] [--until-ms N] [--json]\n',
    );
    process.exit(2);
  }
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  const skipIndex = args.indexOf('--skip-ms');
  const skipMs = skipIndex >= 0 ? Number(args[skipIndex + 1]) : 0;
  const untilIndex = args.indexOf('--until-ms');
  const untilMs = untilIndex >= 0 ? Number(args[untilIndex + 1]) : null;
  const summary = summarizeProfile(path, { top, skipMs, untilMs });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
}
