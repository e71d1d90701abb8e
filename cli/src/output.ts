/**
 * What the CLI prints: aligned tables for people, the API's own JSON with `--json`, ids with
 * `-q`. Colour only on a TTY, never with NO_COLOR (any value) or `--no-color`.
 */

export type OutputMode = 'table' | 'json' | 'quiet';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Colour this cell by its value (statuses, health). */
  tone?: boolean;
}

/** A list for people (columns) and scripts (`id` for `-q`). */
export interface TableView<T> {
  rows: T[];
  columns: Column<T>[];
  id: (row: T) => string;
  /** Printed on stderr under a table when not every match is shown. */
  footer?: string;
}

const ESC = '\u001b[';
const TONES: Record<string, number> = {
  active: 32,
  healthy: 32,
  resolved: 32,
  delivered: 32,
  server: 36,
  degraded: 33,
  unknown: 33,
  maintenance: 33,
  retrying: 33,
  open: 31,
  unhealthy: 31,
  expired: 31,
  inactive: 31,
  failed: 31,
  down: 31,
};

export interface OutputOptions {
  mode: OutputMode;
  color: boolean;
  /** Terminal width on a TTY (long cells are cut to fit), undefined otherwise. */
  width: number | undefined;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Colour is for a person at a terminal: a TTY, no NO_COLOR, no --no-color. */
export function wantsColor(stream: { isTTY?: boolean }, flag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return flag && stream.isTTY === true && env.NO_COLOR === undefined;
}

export class Output {
  readonly mode: OutputMode;
  readonly color: boolean;
  private readonly width: number | undefined;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream;

  constructor(options: OutputOptions) {
    this.mode = options.mode;
    this.color = options.color;
    this.width = options.width;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
  }

  paint(text: string, code: number): string {
    return this.color ? `${ESC}${code}m${text}${ESC}0m` : text;
  }

  /** A status word in its colour (green good, yellow unsure, red bad). */
  tone(text: string): string {
    const code = TONES[text];
    return code === undefined ? text : this.paint(text, code);
  }

  bold(text: string): string {
    return this.paint(text, 1);
  }

  dim(text: string): string {
    return this.paint(text, 2);
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** A line for a stream of them: false when stdout's buffer is full (wait for `drained`). */
  streamLine(text: string): boolean {
    return this.stdout.write(`${text}\n`);
  }

  /** Calls `then` once stdout has drained its buffer. */
  drained(then: () => void): void {
    this.stdout.once('drain', then);
  }

  /** A note for the person (stderr, so stdout stays clean for scripts); it may quote the server. */
  note(text: string): void {
    this.stderr.write(`beacon: ${printable(text)}\n`);
  }

  /** The API's answer as one JSON document. */
  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** `value` is the API's answer (--json); `view` is how people and -q see it. */
  list<T>(value: unknown, view: TableView<T>): void {
    if (this.mode === 'json') return this.json(value);
    if (this.mode === 'quiet') {
      for (const row of view.rows) this.line(printable(view.id(row)));
      return;
    }
    this.table(view.rows, view.columns);
    if (view.footer !== undefined) this.stderr.write(`${view.footer}\n`);
  }

  /**
   * One record: `key  value` lines for people, the id for -q. A value is made printable and cut
   * to the terminal, or toned whole (`true`); `'painted'`: the command coloured parts of it and
   * passed every part from the server through `printable` itself.
   */
  record(value: unknown, id: string, fields: [string, string, (boolean | 'painted')?][]): void {
    if (this.mode === 'json') return this.json(value);
    if (this.mode === 'quiet') return this.line(printable(id));
    const width = Math.max(...fields.map(([key]) => key.length));
    for (const [key, raw, tone] of fields) {
      if (tone === 'painted') {
        this.line(`${this.dim(key.padEnd(width))}  ${raw}`);
        continue;
      }
      const text = printable(oneLine(raw));
      this.line(`${this.dim(key.padEnd(width))}  ${tone ? this.tone(text) : this.cut(text, (this.width ?? Infinity) - width - 2)}`);
    }
  }

  table<T>(rows: T[], columns: Column<T>[]): void {
    const cells = rows.map((row) => columns.map((column) => printable(oneLine(column.value(row)))));
    const widths = fitWidths(
      columns.map((column, index) => Math.max(column.header.length, ...cells.map((row) => (row[index] ?? '').length))),
      this.width,
    );
    const render = (texts: string[], paint: (text: string, index: number) => string): string =>
      texts
        .map((text, index) => {
          const width = widths[index] ?? 0;
          const cut = this.cut(text, width);
          const padded = index === texts.length - 1 ? cut : cut.padEnd(width);
          return paint(padded, index);
        })
        .join('  ')
        .trimEnd();
    this.line(
      render(
        columns.map((column) => column.header),
        (text) => this.bold(text),
      ),
    );
    for (const row of cells) {
      this.line(
        render(row, (text, index) => (columns[index]?.tone ? this.tone(text.trimEnd()) + text.slice(text.trimEnd().length) : text)),
      );
    }
  }

  private cut(text: string, width: number): string {
    return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

// C0 and C1 controls (ESC starts colour, cursor, title and hyperlink sequences; CR rewrites
// the line) and the bidi controls that reorder what follows them on screen.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a server, made safe to print on a terminal: every control character shown as an
 * escape (`\x1b`, `\u202e`), so a name or a cause cannot drive the terminal or disguise itself.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Shrinks the widest columns until the row fits the terminal (no less than 6 wide each). */
export function fitWidths(widths: number[], terminal: number | undefined): number[] {
  if (terminal === undefined) return widths;
  const fitted = [...widths];
  const total = (): number => fitted.reduce((sum, width) => sum + width, 0) + 2 * (fitted.length - 1);
  while (total() > terminal) {
    const widest = fitted.indexOf(Math.max(...fitted));
    if ((fitted[widest] ?? 0) <= 6) break;
    fitted[widest] = (fitted[widest] ?? 0) - 1;
  }
  return fitted;
}

/** "3m ago", "in 20s": a time relative to now, for tables. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const seconds = Math.round((now - ms) / 1000);
  const span = (s: number): string =>
    s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
  return seconds >= 0 ? `${span(seconds)} ago` : `in ${span(-seconds)}`;
}

export function text(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '-';
}
