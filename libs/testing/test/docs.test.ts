import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/app-process';

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
});
