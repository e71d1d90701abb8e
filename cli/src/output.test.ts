import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defaultElectorUrl } from './commands/registry';
import { eventLine, liveUrl } from './commands/watch';
import { metadata } from './options';
import { ago, fitWidths, Output, printable, wantsColor, type OutputOptions } from './output';

function capture(options: Omit<OutputOptions, 'stdout' | 'stderr'>): { output: Output; text: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { output: new Output({ ...options, stdout, stderr: new PassThrough() }), text: () => text };
}

const rows = [
  { id: 'a1', name: 'web', status: 'active' },
  { id: 'b22', name: 'a-much-longer-name', status: 'expired' },
];
const view = {
  rows,
  columns: [
    { header: 'ID', value: (r: (typeof rows)[0]) => r.id },
    { header: 'NAME', value: (r: (typeof rows)[0]) => r.name },
    { header: 'STATUS', value: (r: (typeof rows)[0]) => r.status, tone: true },
  ],
  id: (r: (typeof rows)[0]) => r.id,
};

describe('output', () => {
  it('aligns a table, one row a line, no escape codes without colour', () => {
    const { output, text } = capture({ mode: 'table', color: false, width: undefined });
    output.list({ raw: true }, view);
    expect(text()).toBe(
      ['ID   NAME                STATUS', 'a1   web                 active', 'b22  a-much-longer-name  expired', ''].join('\n'),
    );
  });

  it('colours statuses and bolds the header only when asked', () => {
    const { output, text } = capture({ mode: 'table', color: true, width: undefined });
    output.list({}, view);
    expect(text()).toContain('\u001b[32mactive\u001b[0m');
    expect(text()).toContain('\u001b[31mexpired\u001b[0m');
    expect(text()).toContain('\u001b[1mID');
  });

  it('cuts the widest column to fit the terminal', () => {
    const { output, text } = capture({ mode: 'table', color: false, width: 24 });
    output.list({}, view);
    for (const line of text().trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(24);
    expect(text()).toContain('…');
    expect(fitWidths([10, 30, 5], 30)).toEqual([10, 11, 5]);
    expect(fitWidths([10, 30], undefined)).toEqual([10, 30]);
  });

  it('--json prints the value given, -q the ids', () => {
    const json = capture({ mode: 'json', color: true, width: 80 });
    json.output.list({ services: rows, total: 2 }, view);
    expect(JSON.parse(json.text())).toEqual({ services: rows, total: 2 });
    const quiet = capture({ mode: 'quiet', color: true, width: 80 });
    quiet.output.list({}, view);
    expect(quiet.text()).toBe('a1\nb22\n');
  });

  it('colour needs a TTY, no NO_COLOR (any value) and no --no-color', () => {
    expect(wantsColor({ isTTY: true }, true, {})).toBe(true);
    expect(wantsColor({ isTTY: true }, true, { NO_COLOR: '' })).toBe(false);
    expect(wantsColor({ isTTY: true }, false, {})).toBe(false);
    expect(wantsColor({ isTTY: false }, true, {})).toBe(false);
    expect(wantsColor({}, true, {})).toBe(false);
  });

  it('says times relative to now', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(ago('2026-01-01T11:59:30Z', now)).toBe('30s ago');
    expect(ago('2026-01-01T10:00:00Z', now)).toBe('2h ago');
    expect(ago('2026-01-01T12:05:00Z', now)).toBe('in 5m');
    expect(ago(null, now)).toBe('-');
  });
});

describe('parsing and addresses', () => {
  it('--meta takes key=value, the value may hold "="', () => {
    expect(metadata(['rack=r1', 'q=a=b'])).toEqual({ rack: 'r1', q: 'a=b' });
    expect(metadata([])).toBeUndefined();
    expect(() => metadata(['novalue'])).toThrow(/key=value/);
    expect(() => metadata(['=x'])).toThrow(/key=value/);
  });

  it("the elector is on port 9999 of Beacon's host", () => {
    expect(defaultElectorUrl('http://10.0.0.5:8097')).toBe('http://10.0.0.5:9999/discovery');
    expect(defaultElectorUrl('https://beacon.example/')).toBe('https://beacon.example:9999/discovery');
  });

  it('the WebSocket URL carries the filters and the resume position', () => {
    expect(liveUrl('http://h:8097', { type: 'api', tags: 'a,b', since: '42', name: undefined })).toBe(
      'ws://h:8097/api/v1/ws?type=api&tags=a%2Cb&since=42',
    );
    expect(liveUrl('https://h', {})).toBe('wss://h/api/v1/ws');
  });

  it('an event line names the event, the service and what changed', () => {
    const output = new Output({ mode: 'table', color: false, width: undefined, stdout: new PassThrough() });
    const line = eventLine(
      {
        type: 'health_status_changed',
        timestamp: '2026-01-01T12:00:01.000Z',
        seq: 9,
        data: { service_id: 's1', name: 'web', host: '10.0.0.1', port: 80, health: 'unhealthy', previous_health: 'healthy' },
      },
      output,
    );
    expect(line).toMatch(/^12:00:01 health_status_changed\s+web\s+s1 {2}10\.0\.0\.1:80 {2}health unhealthy {2}was healthy$/);
    const incident = eventLine(
      { type: 'incident_opened', data: { incident_id: 'i1', service_name: 'db', kind: 'down', cause: 'refused', service: null } },
      output,
    );
    expect(incident).toMatch(/incident_opened\s+db\s+i1 {2}down {2}refused$/);
  });
});

describe('printable', () => {
  it('shows control and bidi characters as escapes and leaves other text alone', () => {
    expect(printable('a\u001b[2Jb\u0007\r\u009b\u202e\u2066z')).toBe('a\\x1b[2Jb\\x07\\x0d\\x9b\\u202e\\u2066z');
    expect(printable('café 東京 -_=:/')).toBe('café 東京 -_=:/');
  });

  it('a table cell and a record value never carry them raw', () => {
    const { output, text } = capture({ mode: 'table', color: true, width: undefined });
    output.table([{ name: 'x\u001b]0;title\u0007\ny' }], [{ header: 'NAME', value: (row) => row.name }]);
    output.record({}, 'id', [['cause', 'a\u001b[31mred']]);
    const written = text();
    expect(written).toContain('x\\x1b]0;title\\x07 y');
    expect(written).toContain('a\\x1b[31mred');
    // The only escapes left are this CLI's own colours (bold header, dim keys).
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    expect(written.replace(/\u001b\[\d+m/g, '')).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});
