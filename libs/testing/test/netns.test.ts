import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createLan, netnsUnavailable, type Lan } from '../src/netns';
import { waitFor } from '../src/ports';

const unavailable = netnsUnavailable();
let lan: Lan | undefined;
let server: ChildProcess | undefined;

afterAll(() => {
  server?.kill();
  lan?.dispose();
});

describe.skipIf(unavailable !== null)(`test LAN of network namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('joins hosts on one segment that the root namespace reaches too', async () => {
    lan = createLan(2);
    const [a, b] = lan.hosts as [NonNullable<Lan['hosts'][0]>, NonNullable<Lan['hosts'][0]>];
    server = b.spawn(process.execPath, ['-e', "require('http').createServer((q, s) => s.end('hi')).listen(8080, '0.0.0.0')"]);
    const fromRoot = await waitFor('root reaches host b', async () => (await fetch(`http://${b.ip}:8080/`)).ok, 5000);
    expect(fromRoot).toBe(true);
    const fromA = a.run(process.execPath, ['-e', `fetch('http://${b.ip}:8080/').then(r => r.text()).then(t => process.stdout.write(t))`]);
    expect(fromA.stdout).toBe('hi');
    expect(a.run('ip', ['route', 'show', '224.0.0.0/4']).stdout).toContain('224.0.0.0/4');
  });
});
