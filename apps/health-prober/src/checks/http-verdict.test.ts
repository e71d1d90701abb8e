import { describe, expect, it } from 'vitest';
import { httpVerdict } from './http-verdict';

describe('httpVerdict', () => {
  it("reads seed 004's body: healthy with its load", () => {
    expect(httpVerdict(200, '{"status": "healthy", "load_percentage": 0.3}')).toEqual({
      ok: true,
      health: 'healthy',
      outcome: 'healthy',
      status_code: 200,
      load: 0.3,
      error: null,
    });
  });

  it('says degraded or unhealthy when a 2xx body does', () => {
    expect(httpVerdict(200, '{"status":"degraded"}')).toMatchObject({ ok: true, health: 'degraded', outcome: 'degraded' });
    expect(httpVerdict(200, '{"status":"DEGRADED"}').health).toBe('degraded');
    expect(httpVerdict(200, '{"status":"warn"}').health).toBe('degraded');
    for (const word of ['unhealthy', 'down', 'DOWN', 'fail', 'OUT_OF_SERVICE']) {
      expect(httpVerdict(200, JSON.stringify({ status: word })), word).toMatchObject({
        ok: false,
        health: 'unhealthy',
        outcome: 'unhealthy',
        status_code: 200,
      });
    }
  });

  it('is healthy on any 2xx whose body says nothing it knows', () => {
    for (const body of ['', 'OK', '{"status":"up"}', '{"status":"pass"}', '{"status":42}', '[1,2]', '{not json', null]) {
      expect(httpVerdict(204, body).health, String(body)).toBe('healthy');
    }
  });

  it('is unhealthy on anything but 2xx, whatever the body says, keeping the status code', () => {
    expect(httpVerdict(500, '{"status":"healthy"}')).toEqual({
      ok: false,
      health: 'unhealthy',
      outcome: 'unhealthy',
      status_code: 500,
      load: null,
      error: 'HTTP 500',
    });
    expect(httpVerdict(302, null).health).toBe('unhealthy');
    expect(httpVerdict(404, '').status_code).toBe(404);
  });

  it('reports load only as a number in 0..1', () => {
    const load = (value: unknown): number | null => httpVerdict(200, JSON.stringify({ status: 'healthy', load_percentage: value })).load;
    expect(load(0)).toBe(0);
    expect(load(1)).toBe(1);
    expect(load(0.93)).toBe(0.93);
    expect(load(93)).toBeNull();
    expect(load(-0.1)).toBeNull();
    expect(load('0.5')).toBeNull();
    expect(load(null)).toBeNull();
    expect(httpVerdict(200, '{"load_percentage": 0.5}').load).toBe(0.5);
  });
});
