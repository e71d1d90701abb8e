import type { Service } from '@beacon/contracts';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fetchJson, register, startNatsServer, startRegistry } from '../src';

describe('startRegistry', () => {
  it('registers, restarts on the same SQLite file with the record kept, and removes everything on dispose', async () => {
    const registry = await startRegistry();
    try {
      const service = await registry.register({ name: 'fixture-check' });
      expect(service).toMatchObject({ name: 'fixture-check', host: '10.0.0.1' });
      expect(existsSync(registry.dbPath)).toBe(true);

      expect(await registry.api.stop('SIGKILL')).toBe('SIGKILL');
      await registry.restart();
      const read = await fetchJson<Service>('GET', `${registry.base}/services/${service.service_id}`);
      expect(read.status).toBe(200);
      expect(read.body.revision).toBe(service.revision);
    } finally {
      await registry.dispose();
    }
    expect(existsSync(registry.dir)).toBe(false);
  });

  it('shares a nats-server it was given and leaves it running', async () => {
    const nats = await startNatsServer();
    try {
      const registry = await startRegistry({ nats, env: { BEACON_AUTH_TOKEN: 'fixture-token' } });
      expect(registry.nats).toBe(nats);
      await expect(register(registry.api.url)).rejects.toThrow(/register answered 401/);
      await registry.dispose();
      // Still up: another registry-api can use it.
      const again = await startRegistry({ nats });
      await again.dispose();
    } finally {
      await nats.dispose();
    }
  });
});
