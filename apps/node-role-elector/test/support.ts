import { EVENTS_STREAM, Subjects, type ElectorStatus, type NodeRoleChangedEvent } from '@beacon/contracts';
import { EventRecorder, startApp, waitFor, type AppProcess } from '@beacon/testing';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'nats';

export type RoleEvent = NodeRoleChangedEvent;

/** `/discovery` of one elector: the status contract itself. */
export type Discovery = ElectorStatus;

export interface Elector extends AppProcess {
  nodeId: string;
}

/**
 * The hook every test elector runs: one tab-separated line per run, appended to
 * $HOOK_LOG, with the time (ms) and the variables it was given.
 */
export const HOOK =
  'printf "%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n" "$(date +%s%3N)" "$BEACON_NODE_ID" "$BEACON_ROLE" ' +
  '"$BEACON_SERVER_HOST" "$BEACON_SERVER_PORT" "$BEACON_SERVER_URL" "$BEACON_FENCING_TOKEN" "$BEACON_SERVER_NODE_ID" >> "$HOOK_LOG"';

export interface HookRun {
  at: number;
  node: string;
  role: string;
  host: string;
  port: string;
  url: string;
  token: string;
  serverNode: string;
}

export function hookRuns(file: string, node?: string): HookRun[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, nodeId, role, host, port, url, token, serverNode] = line.split('\t');
      return {
        at: Number(at),
        node: nodeId ?? '',
        role: role ?? '',
        host: host ?? '',
        port: port ?? '',
        url: url ?? '',
        token: token ?? '',
        serverNode: serverNode ?? '',
      };
    })
    .filter((run) => node === undefined || run.node === node);
}

/** `KEY=value` lines of an env file (values here never need unquoting). */
export function readEnvFile(file: string): Record<string, string> {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

export async function startElector(
  nodeId: string,
  env: Record<string, string>,
  options: { netns?: { netns: string; ip: string } } = {},
): Promise<Elector> {
  const app = await startApp('node-role-elector', {
    env: { NODE_ID: nodeId, ...env },
    portVariable: 'ELECTOR_PORT',
    readyPath: '/ready',
    netns: options.netns,
  });
  return Object.assign(app, { nodeId });
}

export async function discovery(elector: AppProcess): Promise<Discovery> {
  const response = await fetch(`${elector.url}/discovery`, { signal: AbortSignal.timeout(2000) });
  return (await response.json()) as Discovery;
}

/** Waits until exactly one of `electors` is server and the others follow it; returns the server. */
export async function settled(electors: Elector[], timeoutMs = 10_000): Promise<{ server: Elector; views: Discovery[] }> {
  return waitFor(
    'one server, every other node its agent',
    async () => {
      const views = await Promise.all(electors.map(discovery));
      const servers = views.filter((view) => view.mode === 'server');
      if (servers.length !== 1) return undefined;
      const leader = servers[0] as Discovery;
      const agreed = views.every((view) => view.server?.node_id === leader.node_id && view.fencing_token === leader.fencing_token);
      if (!agreed) return undefined;
      return { server: electors.find((elector) => elector.nodeId === leader.node_id) as Elector, views };
    },
    timeoutMs,
    50,
  );
}

export function roleEvents(recorder: EventRecorder<RoleEvent>): RoleEvent[] {
  return recorder.bySubject(Subjects.nodeRoleChanged);
}

/** Every role event the BEACON_EVENTS stream kept, in the order it stored them. */
export async function storedRoleEvents(natsUrl: string): Promise<RoleEvent[]> {
  const connection = await connect({ servers: natsUrl });
  try {
    const jsm = await connection.jetstreamManager();
    const { first_seq: first, last_seq: last } = (await jsm.streams.info(EVENTS_STREAM)).state;
    const events: RoleEvent[] = [];
    for (let seq = first; seq <= last && last > 0; seq += 1) {
      const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
      if (message?.subject === Subjects.nodeRoleChanged) events.push(message.json<RoleEvent>());
    }
    return events;
  } finally {
    await connection.close();
  }
}

/**
 * The observer: server tenures from role events, checked for overlap. A tenure runs from
 * a node's `server` event to its next event — or to the moment the test silenced it
 * (kill -9, or SIGSTOP provided it then steps down without acting, which the test checks
 * itself). Fencing tokens of successive tenures must grow.
 */
export class TenureTracker {
  private readonly silenced: { node: string; at: number }[] = [];

  silence(node: string, at = Date.now()): void {
    this.silenced.push({ node, at });
  }

  tenures(events: RoleEvent[]): { node: string; token: number | null; start: number; end: number | null }[] {
    const tenures: { node: string; token: number | null; start: number; end: number | null }[] = [];
    const open = new Map<string, (typeof tenures)[number]>();
    for (const event of events) {
      const at = Date.parse(event.timestamp);
      const current = open.get(event.node.node_id);
      if (current && current.end === null) {
        current.end = at;
        open.delete(event.node.node_id);
      }
      if (event.node.role === 'server') {
        const tenure = { node: event.node.node_id, token: event.node.fencing_token, start: at, end: null };
        tenures.push(tenure);
        open.set(event.node.node_id, tenure);
      }
    }
    for (const tenure of tenures) {
      const cut = this.silenced.filter((s) => s.node === tenure.node && s.at >= tenure.start).map((s) => s.at);
      if (cut.length > 0) tenure.end = Math.min(tenure.end ?? Infinity, ...cut);
    }
    return tenures;
  }

  /** Sentences describing each overlap or token out of order; empty when all is well. */
  violations(events: RoleEvent[]): string[] {
    const problems: string[] = [];
    const tenures = this.tenures(events);
    let highest = -Infinity;
    for (const tenure of tenures) {
      if (tenure.token === null) problems.push(`${tenure.node} was server without a fencing token`);
      else if (tenure.token <= highest) problems.push(`${tenure.node} announced token ${tenure.token} after token ${highest}`);
      else highest = tenure.token;
    }
    for (const [index, a] of tenures.entries()) {
      for (const b of tenures.slice(index + 1)) {
        const aEnd = a.end ?? Infinity;
        const bEnd = b.end ?? Infinity;
        if (a.start < bEnd && b.start < aEnd) {
          problems.push(
            `${a.node} (token ${a.token}, ${a.start}–${a.end ?? 'now'}) overlaps ${b.node} (token ${b.token}, ${b.start}–${b.end ?? 'now'})`,
          );
        }
      }
    }
    return problems;
  }
}
