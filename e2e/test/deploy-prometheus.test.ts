import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, startApp, type AppProcess, findBinary, startNatsServer, type NatsServerHandle } from '@beacon/testing';

/**
 * deploy/prometheus against promtool and the real apps: the config and rules are valid,
 * the alert unit tests pass, every app's /metrics passes `promtool check metrics`, and
 * every metric and job the alerts name exists, so a renamed metric or job fails here.
 */
const DIR = join(REPO_ROOT, 'deploy', 'prometheus');
const CONFIG = join(DIR, 'prometheus.yml');
const RULES = join(DIR, 'alerts.yml');
const RULE_TESTS = join(DIR, 'alerts.test.yml');

/** Each app with the variable of its HTTP port (the one serving /metrics). */
const APPS = [
  { name: 'registry-api', portVariable: 'BEACON_PORT' },
  { name: 'ttl-reaper', portVariable: 'HTTP_PORT' },
  { name: 'health-prober', portVariable: 'HTTP_PORT' },
  { name: 'mdns-announcer', portVariable: 'HTTP_PORT' },
  { name: 'realtime-gateway', portVariable: 'HTTP_PORT' },
  { name: 'node-role-elector', portVariable: 'ELECTOR_PORT' },
] as const;

const PROMTOOL = findBinary('promtool');

interface Run {
  code: number | null;
  output: string;
}

function promtool(args: string[], input?: string): Run {
  const result = spawnSync(PROMTOOL ?? 'promtool', args, { cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

type Mapping = Record<string, unknown>;

function mapping(value: unknown, what: string): Mapping {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Mapping;
  throw new Error(`${what} is not a mapping`);
}

function list(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new Error(`${what} is not a list`);
}

function text(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  throw new Error(`${what} is not a string`);
}

interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Mapping;
  annotations: Mapping;
}

function alertRules(): AlertRule[] {
  const groups = list(mapping(parse(readFileSync(RULES, 'utf8')), 'alerts.yml').groups, 'groups');
  return groups.flatMap((group, index) =>
    list(mapping(group, `group ${index}`).rules, `rules of group ${index}`).map((entry, position) => {
      const rule = mapping(entry, `rule ${position} of group ${index}`);
      const alert = text(rule.alert, `alert of rule ${position} of group ${index}`);
      return {
        alert,
        expr: text(rule.expr, `expr of ${alert}`),
        for: text(rule.for, `for of ${alert}`),
        labels: mapping(rule.labels, `labels of ${alert}`),
        annotations: mapping(rule.annotations, `annotations of ${alert}`),
      };
    }),
  );
}

/** Job name → the ports its targets are scraped on. */
function scrapeJobs(): Map<string, number[]> {
  const configs = list(mapping(parse(readFileSync(CONFIG, 'utf8')), 'prometheus.yml').scrape_configs, 'scrape_configs');
  return new Map(
    configs.map((entry, index) => {
      const job = mapping(entry, `scrape config ${index}`);
      const name = text(job.job_name, `job_name of scrape config ${index}`);
      const dns = list(job.dns_sd_configs ?? [], `dns_sd_configs of ${name}`).map((sd) => Number(mapping(sd, name).port));
      const targets = list(job.static_configs ?? [], `static_configs of ${name}`).flatMap((sc) => list(mapping(sc, name).targets, name));
      const statics = targets.map((target) => Number(text(target, `target of ${name}`).split(':').at(-1)));
      return [name, [...dns, ...statics]];
    }),
  );
}

/** Metric names an expression selects (string literals removed first, so label values never count). */
function selectedMetrics(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((match) => match[0]);
  return names.filter((name) => name.startsWith('beacon_') || name === 'up');
}

/** Names a scrape of this exposition yields: declared families (a histogram's as its three series) and samples. */
function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const declared = /^# (HELP|TYPE) (\S+)(?: (\S+))?/.exec(line);
    if (declared) {
      const [, kind, name = '', type] = declared;
      names.add(name);
      if (kind === 'TYPE' && type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (kind === 'TYPE' && type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
    } else if (line && !line.startsWith('#')) {
      names.add(line.split(/[{ ]/, 1)[0] ?? '');
    }
  }
  return names;
}

/** The first non-loopback IPv4 address: mdns-announcer refuses to start without one to answer on. */
function lanAddress(): string {
  const address = Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .find((entry) => entry.family === 'IPv4' && !entry.internal)?.address;
  if (!address) throw new Error('mdns-announcer needs a non-loopback IPv4 interface, and this machine has none');
  return address;
}

describe.skipIf(PROMTOOL === null)(
  `deploy/prometheus${PROMTOOL === null ? ' (skipped: promtool not found on PATH; Debian/Ubuntu: apt-get install prometheus)' : ''}`,
  () => {
    it('prometheus.yml and the alerts.yml it loads pass promtool check config', () => {
      const run = promtool(['check', 'config', CONFIG]);
      expect(run, run.output).toMatchObject({ code: 0 });
      expect(run.output).toMatch(/Checking .*alerts\.yml\s+SUCCESS: \d+ rules found/);
    });

    it('alerts.yml passes promtool check rules', () => {
      const run = promtool(['check', 'rules', RULES]);
      expect(run, run.output).toMatchObject({ code: 0 });
    });

    it('alerts.yml passes its unit tests (promtool test rules)', () => {
      const run = promtool(['test', 'rules', RULE_TESTS]);
      expect(run, run.output).toMatchObject({ code: 0 });
      expect(run.output).toContain('SUCCESS');
    });

    it('promtool really checks: a broken rule, a wrong expectation and a broken exposition all fail', () => {
      const dir = mkdtempSync(join(tmpdir(), 'beacon-promtool-'));
      try {
        const broken = join(dir, 'broken.yml');
        writeFileSync(
          broken,
          'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: rate(beacon_nats_connected[5m]\n',
        );
        expect(promtool(['check', 'rules', broken]).code).not.toBe(0);

        // BeaconNatsDisconnected waits 1 minute: expecting it after 30 s must fail.
        const early = join(dir, 'early.test.yml');
        writeFileSync(
          early,
          [
            `rule_files: [${JSON.stringify(RULES)}]`,
            'tests:',
            '  - interval: 15s',
            '    input_series:',
            `      - series: 'beacon_nats_connected{app="ttl-reaper",instance="r:9101",job="ttl-reaper"}'`,
            `        values: '0x10'`,
            '    alert_rule_test:',
            '      - eval_time: 30s',
            '        alertname: BeaconNatsDisconnected',
            '        exp_alerts: [{ exp_labels: { severity: critical, app: ttl-reaper, instance: "r:9101", job: ttl-reaper } }]',
            '',
          ].join('\n'),
        );
        expect(promtool(['test', 'rules', early]).code).not.toBe(0);

        expect(promtool(['check', 'metrics'], '# TYPE beacon_x counter\nbeacon_x{ 1\n').code).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('every alert has a for:, a severity and a summary and description', () => {
      const rules = alertRules();
      expect(rules.map((rule) => rule.alert)).toEqual(
        expect.arrayContaining([
          'BeaconServiceUnhealthy',
          'BeaconProberDown',
          'BeaconReaperDown',
          'BeaconExpiryLagHigh',
          'BeaconSlowConsumersDropped',
          'BeaconNatsDisconnected',
        ]),
      );
      for (const rule of rules) {
        expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
        expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
        expect(rule.annotations.summary, rule.alert).toEqual(expect.any(String));
        expect(rule.annotations.description, rule.alert).toEqual(expect.any(String));
      }
    });

    it('scrapes every app under its own name, on the port its --help gives as default', () => {
      const jobs = scrapeJobs();
      expect([...jobs.keys()].sort()).toEqual(APPS.map((app) => app.name).sort());
      for (const app of APPS) {
        const help = execFileSync(process.execPath, [join(REPO_ROOT, 'apps', app.name, 'dist', 'main.js'), '--help'], { encoding: 'utf8' });
        const port = new RegExp(`^${app.portVariable} \\(default (\\d+)\\)`, 'm').exec(help)?.[1];
        expect(jobs.get(app.name), app.name).toEqual([Number(port)]);
      }
    });

    describe('against the running apps', () => {
      let nats: NatsServerHandle;
      let dir: string;
      const running: AppProcess[] = [];
      /** App name → its /metrics body. */
      const scraped = new Map<string, string>();

      beforeAll(async () => {
        nats = await startNatsServer();
        dir = mkdtempSync(join(tmpdir(), 'beacon-prometheus-'));
        const env: Record<string, Record<string, string>> = {
          'registry-api': { BEACON_SQLITE_PATH: join(dir, 'beacon.db') },
          'mdns-announcer': {
            MDNS_INTERFACE: lanAddress(),
            MDNS_HOSTNAME: 'beacon-prometheus-test',
            BEACON_ANNOUNCE_NAME: 'Beacon under test',
          },
          'node-role-elector': { NODE_ID: 'prometheus-test', SERVER_ADVERTISE_HOST: '127.0.0.1' },
        };
        const started = await Promise.allSettled(
          APPS.map((app) =>
            startApp(app.name, {
              env: { NATS_URL: nats.url, ...env[app.name] },
              portVariable: app.portVariable,
              readyPath: '/ready',
              timeoutMs: 30_000,
            }),
          ),
        );
        for (const result of started) if (result.status === 'fulfilled') running.push(result.value);
        const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) throw failed.reason;
        for (const app of running) {
          const response = await fetch(`${app.url}/metrics`);
          expect(response.status, app.name).toBe(200);
          scraped.set(app.name, await response.text());
        }
      });

      afterAll(async () => {
        await Promise.all(running.map((app) => app.stop('SIGKILL')));
        await nats?.dispose();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      for (const app of APPS) {
        it(`${app.name}'s /metrics passes promtool check metrics (format and lint)`, () => {
          const run = promtool(['check', 'metrics'], scraped.get(app.name));
          expect({ code: run.code, problems: run.output }).toEqual({ code: 0, problems: '' });
        });
      }

      it('every metric the alerts select is exposed by an app, and every up{job} is a scrape job', () => {
        const exposed = new Set([...scraped.values()].flatMap((body) => [...exposedNames(body)]));
        const jobs = scrapeJobs();
        const rules = alertRules();
        const missing = rules.flatMap((rule) =>
          selectedMetrics(rule.expr)
            .filter((name) => name !== 'up' && !exposed.has(name))
            .map((name) => `${rule.alert}: ${name}`),
        );
        expect(missing).toEqual([]);
        const upJobs = rules.flatMap((rule) => [...rule.expr.matchAll(/\bup\{[^}]*\bjob="([^"]+)"/g)].map((match) => match[1] ?? ''));
        expect(upJobs.length).toBeGreaterThan(0);
        for (const job of upJobs) expect([...jobs.keys()]).toContain(job);
        // The extraction itself works: every alert selects at least one metric.
        for (const rule of rules) expect(selectedMetrics(rule.expr), rule.alert).not.toEqual([]);
      });
    });
  },
);
