import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@beacon/testing';

const APPS = ['registry-api', 'ttl-reaper', 'health-prober', 'realtime-gateway', 'mdns-announcer', 'node-role-elector'];
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('documentation', () => {
  for (const app of APPS) {
    it(`README documents every variable ${app} --help lists`, () => {
      const help = execFileSync(process.execPath, [join(REPO_ROOT, 'apps', app, 'dist', 'main.js'), '--help'], { encoding: 'utf8' });
      const variables = [...help.matchAll(/^([A-Z][A-Z0-9_]+)/gm)].map((match) => match[1] as string);
      expect(variables.length).toBeGreaterThan(10);
      for (const name of variables) expect(readme, `${name} (${app})`).toContain(`\`${name}\``);
    });
  }

  it('prints the webhook receivers in the README exactly as docs/examples has them (a test runs those files against a real gateway)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const file of ['docs/examples/webhook-receiver.cjs', 'docs/examples/webhook_receiver.py']) {
      expect(readme, file).toContain(readFileSync(join(REPO_ROOT, file), 'utf8').trimEnd());
    }
  });

  it('has no dead links: every relative link in the README and docs/ names a file in the repository', () => {
    const pages = [
      'README.md',
      ...readdirSync(join(REPO_ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => join('docs', name)),
    ];
    const apps = readdirSync(join(REPO_ROOT, 'apps')).map((name) => join('apps', name, 'README.md'));
    const dead: string[] = [];
    for (const page of [...pages, ...apps.filter((path) => existsSync(join(REPO_ROOT, path)))]) {
      const text = readFileSync(join(REPO_ROOT, page), 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (match[1] ?? '').split('#')[0] ?? '';
        if (target === '' || /^[a-z]+:/.test(target)) continue;
        const path = resolve(dirname(join(REPO_ROOT, page)), target);
        const inside = !relative(REPO_ROOT, path).startsWith('..');
        if (!inside || !existsSync(path)) dead.push(`${page}: ${target}`);
      }
    }
    expect(dead).toEqual([]);
  });
});
