import { freePort, uniqueName, waitFor } from '@beacon/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookStack, type WebhookStack } from './webhooks-stack';

/**
 * The receivers the README shows (docs/examples), run as written in Node and in Python,
 * verify real signed deliveries from a real gateway and refuse forged ones.
 */
const EXAMPLES = resolve(__dirname, '../../../docs/examples');
const SECRET = 'whsec-docs-' + 'x'.repeat(16);

interface Example {
  name: string;
  port: number;
  child: ChildProcess;
  output: string[];
  webhookId?: string;
}

let stack: WebhookStack;
const examples: Example[] = [];

async function startExample(name: string, command: string, file: string): Promise<Example> {
  const port = await freePort();
  const child = spawn(command, [resolve(EXAMPLES, file)], {
    env: { ...process.env, BEACON_WEBHOOK_SECRET: SECRET, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const example: Example = { name, port, child, output: [] };
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    example.output.push(...lines);
  });
  child.stderr?.on('data', (chunk: Buffer) => example.output.push(`stderr: ${chunk.toString('utf8')}`));
  examples.push(example);
  await waitFor(
    `${name} example listening`,
    async () => (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST' }).catch(() => null))?.status === 401 || undefined,
    10_000,
    100,
  );
  return example;
}

beforeAll(async () => {
  stack = await startWebhookStack();
  await startExample('node', process.execPath, 'webhook-receiver.cjs');
  await startExample('python', 'python3', 'webhook_receiver.py');
});

afterAll(async () => {
  for (const { child } of examples) child.kill('SIGKILL');
  await stack?.dispose();
});

describe('the README signature examples', () => {
  it('verify a real delivery (~75 KB of non-ASCII text included) and its test, and refuse a forged body or an old timestamp', async () => {
    const type = uniqueName('docs');
    for (const example of examples) {
      const webhook = await stack.createWebhook({
        url: `http://127.0.0.1:${example.port}/beacon`,
        events: ['service_registered'],
        type,
        secret: SECRET,
      });
      example.webhookId = webhook.webhook_id;
      expect(await stack.testWebhook(webhook.webhook_id)).toMatchObject({ status: 'delivered', status_code: 204 });
    }
    // Metadata of multi-byte characters makes a body of ~75 KB, which reaches a receiver in several chunks.
    const metadata = Object.fromEntries(Array.from({ length: 60 }, (_, index) => [`k${index}`, 'é€'.repeat(170)]));
    await stack.register(type, { name: uniqueName('zürich-服务-🚀'), metadata });
    for (const example of examples) {
      await waitFor(
        `${example.name} verified the event`,
        async () => example.output.some((line) => line.startsWith('verified service_registered ')) || undefined,
        20_000,
        100,
      ).catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}\n${example.output.join('\n')}\n${JSON.stringify(await stack.deliveries(example.webhookId ?? ''))}`,
        );
      });
      await waitFor(
        `${example.name} verified the event`,
        async () => example.output.some((line) => line.startsWith('verified service_registered ')) || undefined,
        20_000,
        100,
      );
      expect(
        example.output.filter((line) => line.startsWith('verified test ')),
        example.output.join('\n'),
      ).toHaveLength(1);
      const body = JSON.stringify({ v: 1, type: 'service_registered', data: { forged: true } });
      const t = Math.floor(Date.now() / 1000);
      const mac = (at: number, signed: string): string => createHmac('sha256', SECRET).update(`${at}.${signed}`).digest('hex');
      const post = (header: string): Promise<number> =>
        fetch(`http://127.0.0.1:${example.port}/beacon`, { method: 'POST', body, headers: { 'x-beacon-signature': header } }).then(
          (r) => r.status,
        );
      expect(await post(`t=${t},v1=${mac(t, body.replace('true', 'false'))}`), example.name).toBe(401);
      expect(await post(`t=${t - 600},v1=${mac(t - 600, body)}`), example.name).toBe(401);
      expect(await post(`t=${t},v1=${mac(t, body)}`), example.name).toBe(204);
    }
  });
});
