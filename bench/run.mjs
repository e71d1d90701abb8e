#!/usr/bin/env node
/**
 * Beacon benchmark (`pnpm bench`). A report, not a test: it exits non-zero only when it
 * cannot run (a missing tool or build, or a section that crashed), never because a
 * target was missed. Sections, in order (bench/sections/*.mjs):
 *
 *   registry  issue 2 item 7: registration and filtered list vs a bare Fastify server (wrk)
 *   expiry    issue 3 item 6: expiry lag of 1,000 services whose TTLs lapse together, one ttl-reaper
 *   probe     issue 3 item 6: health-prober probes/s vs a bare got loop; two replicas vs one
 *   ws        issue 4 item 5: 1,000 WebSocket clients on realtime-gateway vs a bare ws broadcast server
 *   election  issue 6 item 4: failover after SIGKILL (10 trials) and a 3 s lease under load
 *   fairness  issue 13 item 4: 1,000 healthy targets keep their intervals while 300 black holes are registered
 *   durability registrations/s under BEACON_SQLITE_SYNCHRONOUS=full vs normal (same run), and the disk's fsync latency
 *   footprint the stack's RSS (idle; 10,000 services + 1,000 WebSocket clients) and cold start, six apps in one process vs six
 *   webhooks  webhook delivery: event → webhook received with 100 webhooks, vs a bare got loop
 *   sdk-watch the SDK's watch() cache lag behind the catalog vs a raw ws client, 1,000 services at 20 changes/s
 *
 * Options: `pnpm bench --help` (USAGE below), plus each section's own variables
 * (see bench/README.md).
 *
 * Output: one combined table on stdout (and each section's details), one JSON per section
 * (bench/results/<section>-<timestamp>.json), bench/results/latest.md, and with profiling
 * bench/results/profiles/<timestamp>/*.cpuprofile.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { killAll } from './lib/procs.mjs';
import { gitInfo, log, REPO, RESULTS, textTable } from './lib/stack.mjs';
import * as durability from './sections/durability.mjs';
import * as election from './sections/election.mjs';
import * as expiry from './sections/expiry.mjs';
import * as footprint from './sections/footprint.mjs';
import * as fairness from './sections/fairness.mjs';
import * as probe from './sections/probe.mjs';
import * as registry from './sections/registry.mjs';
import * as scale from './sections/scale.mjs';
import * as sdkWatch from './sections/sdk-watch.mjs';
import * as uptime from './sections/uptime.mjs';
import * as webhooks from './sections/webhooks.mjs';
import * as ws from './sections/ws.mjs';

const SECTIONS = [registry, expiry, probe, ws, election, fairness, durability, footprint, scale, webhooks, uptime, sdkWatch];

const SECTION_NAMES = SECTIONS.map((s) => s.name);

const USAGE = `Usage: pnpm bench [SECTION ...] [--only SECTIONS] [--profile | --no-profile]

Measures Beacon against a ceiling or a peer in the same run and writes a report
(bench/results/latest.md and one JSON per section). Exits non-zero only when it cannot
run, never because a target was missed. The whole run takes about 15-20 minutes on 2 cores.

Sections (in order):
${SECTIONS.map((s) => `  ${s.name.padEnd(10)} ${s.title}`).join('\n')}

Options:
  SECTION ...     run only these sections: pnpm bench footprint (the same as --only footprint)
  --only a,b      run only these sections (or BENCH_ONLY=a,b)
  --profile       also CPU-profile under load (or BENCH_PROFILE=1; default: only when a target is missed)
  --no-profile    never profile (or BENCH_PROFILE=0)
  -h, --help      show this text

Each section's own variables are listed in bench/README.md.
`;

/** The command line, strictly: an unknown flag is an error, not an 8-minute run. */
function parseCommandLine() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        only: { type: 'string' },
        profile: { type: 'boolean' },
        'no-profile': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const { values: options, positionals } = parseCommandLine();
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const onlyValue = options.only ?? (positionals.length > 0 ? positionals.join(',') : process.env.BENCH_ONLY);
const profileMode =
  options['no-profile'] || process.env.BENCH_PROFILE === '0'
    ? 'never'
    : options.profile || process.env.BENCH_PROFILE === '1'
      ? 'always'
      : 'on-miss';

const stamp = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replace(/:/g, '-');

function selectedSections() {
  if (onlyValue === undefined) return SECTIONS;
  const wanted = onlyValue
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0) {
    process.stderr.write(`bench: --only needs a list of sections, e.g. --only expiry,probe (sections: ${SECTION_NAMES.join(', ')})\n`);
    process.exit(2);
  }
  const unknown = wanted.filter((w) => !SECTION_NAMES.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown section(s) ${unknown.join(', ')}; sections: ${SECTION_NAMES.join(', ')}\n`);
    process.exit(2);
  }
  return SECTIONS.filter((s) => wanted.includes(s.name));
}

function summaryTable(outcomes, { markdown = false } = {}) {
  const rows = [];
  for (const o of outcomes) {
    if (o.error) {
      rows.push([
        o.section.name,
        '(section failed to run)',
        String(o.error.message ?? o.error)
          .split('\n')[0]
          .slice(0, 80),
        '',
        '',
        '',
        'ERROR',
      ]);
      continue;
    }
    for (const row of o.result.rows)
      rows.push([o.section.name, row.scenario, row.value, row.baseline ?? '', row.ratio ?? '', row.target, row.verdict]);
  }
  return textTable(['section', 'scenario', 'Beacon', 'baseline', 'ratio', 'target', 'verdict'], rows, {
    markdown,
    left: [0, 1, 2, 3, 5, 6],
  });
}

function markdownReport(meta, outcomes) {
  const md = [];
  md.push(`# Beacon benchmark — ${meta.started_at}`);
  md.push('');
  md.push(
    `commit ${meta.git.commit}${meta.git.dirty ? ' (dirty tree)' : ''} · Node ${meta.env.node} · ${meta.env.cpus} × ${meta.env.cpu_model} · ` +
      `load avg before ${meta.env.loadavg_before.join(' / ')} · sections: ${outcomes.map((o) => o.section.name).join(', ')} · ${meta.elapsed_s} s`,
  );
  md.push('');
  md.push('## Summary');
  md.push('');
  md.push(summaryTable(outcomes, { markdown: true }));
  md.push('');
  md.push('PASS/FAIL per target; rows marked (info) are context, not targets. A missed target never fails the command.');
  for (const o of outcomes) {
    md.push('');
    md.push(`## ${o.section.title}`);
    md.push('');
    if (o.error) {
      md.push('The section failed to run:');
      md.push('');
      md.push('```');
      md.push(String(o.error.stack ?? o.error).slice(0, 4000));
      md.push('```');
      continue;
    }
    md.push(o.result.markdown);
    md.push('');
    md.push(`Raw results: \`${o.json_file}\``);
  }
  md.push('');
  return md.join('\n');
}

async function main() {
  const startedAt = Date.now();
  const sections = selectedSections();
  const missing = [...new Set(sections.flatMap((s) => s.missing()))];
  if (missing.length > 0) {
    process.stderr.write(`bench: cannot run ${sections.map((s) => s.name).join(', ')}, missing:\n  ${missing.join('\n  ')}\n`);
    process.exit(1);
  }
  const meta = {
    started_at: new Date().toISOString(),
    git: gitInfo(),
    env: {
      node: process.version,
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      loadavg_before: loadavg().map((v) => Math.round(v * 100) / 100),
    },
    profile_mode: profileMode,
  };
  mkdirSync(RESULTS, { recursive: true });
  log(`sections: ${sections.map((s) => s.name).join(', ')} · profiling ${profileMode}`);

  const outcomes = [];
  for (const section of sections) {
    const sectionStart = Date.now();
    log(`=== ${section.name}: ${section.title}`);
    const outcome = { section };
    try {
      outcome.result = await section.run({ stamp, profileMode });
      const jsonFile = join(RESULTS, `${section.name}-${stamp}.json`);
      outcome.json_file = relative(REPO, jsonFile);
      const document = {
        section: section.name,
        title: section.title,
        ...meta,
        env: { ...meta.env, loadavg_after: loadavg().map((v) => Math.round(v * 100) / 100) },
        elapsed_s: Math.round((Date.now() - sectionStart) / 1000),
        ...outcome.result.report,
        json_file: outcome.json_file,
      };
      writeFileSync(jsonFile, `${JSON.stringify(document, null, 2)}\n`);
      process.stdout.write(`\n${outcome.result.text}\n\n`);
    } catch (error) {
      outcome.error = error;
      process.stderr.write(`bench: section ${section.name} failed: ${error.stack ?? error}\n`);
    }
    outcomes.push(outcome);
  }

  meta.elapsed_s = Math.round((Date.now() - startedAt) / 1000);
  writeFileSync(join(RESULTS, 'latest.md'), markdownReport(meta, outcomes));
  const failed = outcomes.filter((o) => o.error);
  const missed = outcomes.some((o) => o.result && o.result.rows.some((row) => !row.info && !row.pass));
  process.stdout.write(`\n${summaryTable(outcomes)}\n\n`);
  const ran = outcomes.filter((o) => o.result);
  const written = outcomes.filter((o) => o.json_file).map((o) => o.json_file);
  process.stdout.write(
    `${failed.length ? `${failed.length} section(s) FAILED TO RUN (${failed.map((o) => o.section.name).join(', ')}) · ` : ''}` +
      `${ran.length ? `targets ${missed ? 'NOT all met' : 'all met'}${failed.length ? ' in the sections that ran' : ''} · ` : ''}${meta.elapsed_s} s · ` +
      `wrote ${[...written, relative(REPO, join(RESULTS, 'latest.md'))].join(', ')}\n`,
  );
  if (failed.length) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
  killAll();
  process.exitCode = 1;
});
