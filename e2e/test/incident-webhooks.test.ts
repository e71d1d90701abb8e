import type { Incident, IncidentList, Service, Webhook } from '@beacon/contracts';
import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, findBinary, freePorts, launch, sleep, stopLauncher, waitFor, type Launcher } from '@beacon/testing';

/**
 * Monitoring end to end, as a user runs it: `scripts/start.mjs` (the README's start command)
 * with nginx in front, a real HTTP target on loopback that goes down and comes back, and a
 * real receiver that verifies every webhook's signature the way the README tells users to.
 * The target's failure must open a `down` incident within fall × interval + 1 s, and the
 * signed `incident_opened` webhook must arrive; reminders repeat until acknowledged;
 * recovery resolves the incident and its webhook arrives.
 */

const nginx = findBinary('nginx');
const natsServer = findBinary('nats-server');

const TOKEN = 'monitoring-e2e-token-0123456789';
const SECRET = 'whsec-e2e-0123456789abcdef';
const FALL = 3;
const RISE = 2;
const INTERVAL_S = 1;
const REPEAT_S = 2;

/** A signed webhook as the receiver got it, after checking its signature. */
interface Received {
  at: number;
  verified: boolean;
  type: string;
  body: { type: string; event_id: string; data: Incident & { service: Service | null } };
}

/** Anything else the receiver got (an ntfy body is plain text). */
interface Other {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Verifies `X-Beacon-Signature: t=<unix>,v1=<hex>` as the README documents: HMAC-SHA256 of "<t>.<body>", within 5 minutes. */
function verify(header: string | undefined, body: string, secret: string): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe.skipIf(!nginx || !natsServer)(
  `incidents and signed webhooks through the whole stack${!nginx ? ' — skipped: nginx is not installed' : ''}${!natsServer ? ' — skipped: nats-server is not installed' : ''}`,
  () => {
    let dataDir: string;
    let stack: Launcher;
    let base: string;
    let targetStatus = 200;
    let target: Server;
    let receiver: Server;
    let targetPort: number;
    let receiverPort: number;
    const received: Received[] = [];
    const others: Other[] = [];
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

    beforeAll(async () => {
      target = createServer((_request, response) => {
        response.writeHead(targetStatus, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ status: targetStatus === 200 ? 'ok' : 'failing' }));
      });
      receiver = createServer((request, response) => {
        void readBody(request).then((text) => {
          if (!request.url?.startsWith('/hooks/beacon')) {
            others.push({ path: request.url ?? '', headers: request.headers, text });
            response.writeHead(200).end();
            return;
          }
          const signature = request.headers['x-beacon-signature'];
          const body = JSON.parse(text) as Received['body'];
          received.push({
            at: Date.now(),
            verified: verify(typeof signature === 'string' ? signature : undefined, text, SECRET),
            type: body.type,
            body,
          });
          response.writeHead(204).end();
        });
      });
      targetPort = await listen(target);
      receiverPort = await listen(receiver);

      dataDir = mkdtempSync(join(tmpdir(), 'beacon-monitoring-'));
      const ports = await freePorts();
      stack = launch({
        ...ports,
        BEACON_DATA_DIR: dataDir,
        BEACON_NGINX: '1',
        BEACON_AUTH_TOKEN: TOKEN,
        BEACON_INCIDENT_REPEAT_INTERVAL: `${REPEAT_S}s`,
        BEACON_WEBHOOK_RETRY_MAX_DELAY: '2s',
      });
      base = `http://127.0.0.1:${ports.BEACON_PORT}`;
      await Promise.race([
        waitFor('"Beacon is up" from the launcher', () => stack.output().includes('Beacon is up on'), 90_000, 200),
        stack.exited.then((code) => {
          throw new Error(`the launcher exited (${code}) before the stack was up:\n${stack.output()}`);
        }),
      ]);
    }, 120_000);

    afterAll(async () => {
      await stopLauncher(stack);
      target?.close();
      receiver?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 30_000);

    async function openIncidents(serviceId: string): Promise<Incident[]> {
      const response = await fetch(`${base}/api/v1/incidents?status=open&service_id=${serviceId}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as IncidentList).incidents;
    }

    it('opens a down incident within fall × interval + 1 s, sends it signed, repeats it until acknowledged, and resolves it on recovery', async () => {
      const created = await fetch(`${base}/api/v1/webhooks`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          url: `http://127.0.0.1:${receiverPort}/hooks/beacon`,
          events: ['incident_opened', 'incident_resolved', 'incident_acknowledged'],
          format: 'generic',
          secret: SECRET,
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const webhook = (await created.json()) as Webhook & { secret?: unknown };
      expect(webhook.has_secret).toBe(true);
      expect(webhook.secret).toBeUndefined();

      const registered = await fetch(`${base}/api/v1/services/register`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          name: `monitored-${Date.now()}`,
          host: '127.0.0.1',
          port: targetPort,
          health_check_url: `http://127.0.0.1:${targetPort}/health`,
          health_check_interval: INTERVAL_S,
          health_check_retries: FALL,
          health_check_rise: RISE,
        }),
      });
      expect(registered.status).toBe(201);
      const service = (await registered.json()) as Service;
      await waitFor(
        'the service healthy',
        async () => ((await (await fetch(`${base}/api/v1/services/${service.service_id}`)).json()) as Service).health === 'healthy',
        20_000,
        100,
      );

      // The target fails now.
      targetStatus = 503;
      const failedAt = Date.now();
      const [incident] = await waitFor(
        'a down incident',
        async () => {
          const open = await openIncidents(service.service_id);
          return open.length > 0 ? open : undefined;
        },
        20_000,
        50,
      );
      expect(incident?.kind).toBe('down');
      expect(incident?.service_name).toBe(service.name);
      expect(incident?.failed_checks).toBeGreaterThanOrEqual(FALL);
      expect(incident?.status_code).toBe(503);
      // The bound: fall × interval + 1 s from the target failing to the incident opening.
      const openedAfterMs = Date.parse(incident!.started_at) - failedAt;
      console.info(`down incident opened ${openedAfterMs} ms after the target failed (bound ${(FALL * INTERVAL_S + 1) * 1000} ms)`);
      expect(openedAfterMs).toBeLessThanOrEqual((FALL * INTERVAL_S + 1) * 1000);

      const opened = await waitFor(
        'the incident_opened webhook',
        () => received.find((r) => r.type === 'incident_opened' && r.body.data.incident_id === incident!.incident_id) ?? undefined,
        20_000,
        50,
      );
      expect(opened.verified).toBe(true);
      expect(opened.body.data.service?.service_id).toBe(service.service_id);

      // Still down: reminders repeat (to webhooks on incident_opened) until someone acknowledges.
      await waitFor(
        'a reminder',
        () => received.some((r) => r.type === 'incident_reminder' && r.body.data.incident_id === incident!.incident_id),
        REPEAT_S * 1000 * 4 + 10_000,
        100,
      );
      const unauthorized = await fetch(`${base}/api/v1/incidents/${incident!.incident_id}/acknowledge`, { method: 'POST' });
      expect(unauthorized.status).toBe(401);
      const acknowledged = await fetch(`${base}/api/v1/incidents/${incident!.incident_id}/acknowledge`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ note: 'looking at it' }),
      });
      expect(acknowledged.status, await acknowledged.clone().text()).toBe(200);
      expect(((await acknowledged.json()) as Incident).acknowledged_at).not.toBeNull();
      const ackHook = await waitFor(
        'the incident_acknowledged webhook',
        () => received.find((r) => r.type === 'incident_acknowledged' && r.body.data.incident_id === incident!.incident_id) ?? undefined,
        20_000,
        50,
      );
      expect(ackHook.verified).toBe(true);
      // A reminder already on its way may still land; after that, none for three intervals.
      await sleep(REPEAT_S * 1000);
      const remindersThen = received.filter((r) => r.type === 'incident_reminder').length;
      await sleep(REPEAT_S * 1000 * 3);
      expect(received.filter((r) => r.type === 'incident_reminder').length).toBe(remindersThen);
      expect((await openIncidents(service.service_id)).map((open) => open.incident_id)).toEqual([incident!.incident_id]);

      // The target recovers: after the rise threshold the incident resolves by itself.
      targetStatus = 200;
      const resolved = await waitFor(
        'the incident_resolved webhook',
        () => received.find((r) => r.type === 'incident_resolved' && r.body.data.incident_id === incident!.incident_id) ?? undefined,
        30_000,
        50,
      );
      expect(resolved.verified).toBe(true);
      expect(resolved.body.data.resolved_by).toBe('auto');
      const final = (await (await fetch(`${base}/api/v1/incidents/${incident!.incident_id}`)).json()) as Incident;
      expect(final.status).toBe('resolved');
      expect(final.resolved_at).not.toBeNull();
      expect(final.duration_seconds).toBeGreaterThan(0);
      expect(await openIncidents(service.service_id)).toEqual([]);

      // Every signature checked out, and the delivery log says so too.
      expect(received.every((r) => r.verified)).toBe(true);
      const log = await fetch(`${base}/api/v1/webhooks/${webhook.webhook_id}/deliveries`, { headers: auth });
      expect(log.status).toBe(200);
      const deliveries = (await log.json()) as { deliveries: { status: string }[] };
      expect(deliveries.deliveries.length).toBeGreaterThanOrEqual(3);
      expect(deliveries.deliveries.every((d) => d.status === 'delivered')).toBe(true);
    }, 150_000);

    it("runs the README's monitoring example as written (its ntfy URL pointed at a local receiver)", async () => {
      const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
      const start = readme.indexOf('\n## Monitoring: incidents, uptime and webhooks\n');
      const example = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? '';
      expect(example).toContain('https://ntfy.sh/my-beacon-alerts');
      const script = example
        .replaceAll('http://localhost:8097', base)
        .replaceAll('https://ntfy.sh/my-beacon-alerts', `http://127.0.0.1:${receiverPort}/my-beacon-alerts`)
        // The README says to add the token header when a token is set, as it is here.
        .replaceAll('curl -s -X POST', 'curl -s -H "Authorization: Bearer $BEACON_AUTH_TOKEN" -X POST');
      const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
        env: { PATH: process.env.PATH ?? '', BEACON_AUTH_TOKEN: TOKEN },
        timeout: 60_000,
      });
      const open = JSON.parse(stdout.slice(stdout.lastIndexOf('{"incidents"'))) as IncidentList;
      const incident = open.incidents.find((candidate) => candidate.service_name === 'doomed');
      expect(incident?.kind).toBe('down');
      const note = await waitFor('the ntfy notification', () => others.find((other) => other.path === '/my-beacon-alerts'), 20_000, 100);
      expect(note.headers.title).toMatch(/doomed/);
      expect(note.headers.priority).toBe('5');
      expect(note.text).toMatch(/doomed is down/);
    }, 90_000);
  },
);
