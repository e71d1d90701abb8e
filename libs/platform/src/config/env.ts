/**
 * Configuration from environment variables, declared once per app as a schema and
 * validated at boot: every bad variable is reported in one error, by name.
 */

export interface FieldSpec<T> {
  /** What the variable is for; `--help` and "X is required" errors quote it. */
  doc: string;
  /** Parses the raw string or returns an error sentence. */
  parse(raw: string): { value: T } | { error: string };
  default?: T;
  /** Another variable accepted for the same setting (seed 004's names). */
  alias?: string;
  /** Whether a non-blank raw value still says nothing (a list of no entries), so counts as unset. */
  empty?(raw: string): boolean;
}

export type EnvSchema = Record<string, FieldSpec<unknown>>;

export type EnvValues<S extends EnvSchema> = {
  [K in keyof S]: S[K] extends FieldSpec<infer T> ? T : never;
};

type Options<T> = { doc: string; default?: T; alias?: string };

function spec<T>(options: Options<T>, parse: FieldSpec<T>['parse']): FieldSpec<T> {
  return { ...options, parse };
}

/** A list variable's entries, trimmed, empty ones dropped. */
function listEntries(raw: string): { value: string[] } | { error: string } {
  let items: unknown = raw.split(',');
  if (raw.trim().startsWith('[')) {
    try {
      items = JSON.parse(raw);
    } catch {
      return { error: `looks like a JSON array but is not valid JSON: ${raw}` };
    }
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
      return { error: `must be a JSON array of strings or a comma-separated list, got ${raw}` };
    }
  }
  return { value: (items as string[]).map((item) => item.trim()).filter((item) => item.length > 0) };
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from `90`, `30s`, `5m`, `1h` or `90d`, or null for anything else. */
export function parseDuration(raw: string): number | null {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(raw);
  if (!match) return null;
  return Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 1);
}

export const env = {
  /** A duration in seconds, given as seconds or with a unit (30s, 5m, 1h, 90d). */
  duration(options: Options<number> & { min?: number; max?: number }): FieldSpec<number> {
    const { min = 0, max = 10 * 365 * 86400 } = options;
    return spec<number>(options, (raw) => {
      const seconds = parseDuration(raw);
      if (seconds === null) return { error: `must be seconds or a duration like 30s, 5m, 1h or 90d, got "${raw}"` };
      if (seconds < min || seconds > max) return { error: `must be between ${min} and ${max} seconds, got ${seconds}` };
      return { value: seconds };
    });
  },

  string(options: Options<string> & { pattern?: RegExp; patternHint?: string }): FieldSpec<string> {
    return spec<string>(options, (raw) =>
      options.pattern && !options.pattern.test(raw)
        ? { error: `must be ${options.patternHint ?? `like ${options.pattern}`}` }
        : { value: raw },
    );
  },

  /** Optional string: absent or blank means undefined. */
  optionalString(options: { doc: string; alias?: string }): FieldSpec<string | undefined> {
    return { ...options, default: undefined, parse: (raw) => ({ value: raw === '' ? undefined : raw }) };
  },

  int(options: Options<number> & { min?: number; max?: number }): FieldSpec<number> {
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
    return spec<number>(options, (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) return { error: `must be a whole number, got "${raw}"` };
      const value = Number(raw);
      if (value < min || value > max) return { error: `must be between ${min} and ${max}, got ${value}` };
      return { value };
    });
  },

  number(options: Options<number> & { min?: number; max?: number }): FieldSpec<number> {
    const { min = -Infinity, max = Infinity } = options;
    return spec<number>(options, (raw) => {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) return { error: `must be a number, got "${raw}"` };
      if (value < min || value > max) return { error: `must be between ${min} and ${max}, got ${value}` };
      return { value };
    });
  },

  port(options: Options<number>): FieldSpec<number> {
    return env.int({ ...options, min: 0, max: 65535 });
  },

  bool(options: Options<boolean>): FieldSpec<boolean> {
    return spec<boolean>(options, (raw) => {
      const normalized = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(normalized)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(normalized)) return { value: false };
      return { error: `must be true or false, got "${raw}"` };
    });
  },

  /** One of `values`, case-insensitive; `aliases` maps other spellings (`WARNING` → `warn`). */
  oneOf<const V extends string>(values: readonly V[], options: Options<V> & { aliases?: Readonly<Record<string, V>> }): FieldSpec<V> {
    return spec<V>(options, (raw) => {
      const normalized = raw.trim().toLowerCase();
      const value = options.aliases?.[normalized] ?? normalized;
      return (values as readonly string[]).includes(value)
        ? { value: value as V }
        : { error: `must be one of ${values.join(', ')}, got "${raw}"` };
    });
  },

  /**
   * Comma-separated list, or a JSON array of strings (seed 000 writes `["*"]`); empty
   * entries dropped. A value with no entries left (`,`, `[]`) counts as unset, like a blank
   * one: `BEACON_AUTH_TOKEN=','` must not switch auth off past `SERVICE_DISCOVERY_SECRET`.
   */
  list(
    options: Options<string[]> & { /** Why one entry is not acceptable, or null. */ each?: (item: string) => string | null },
  ): FieldSpec<string[]> {
    return {
      ...spec<string[]>(options, (raw) => {
        const parsed = listEntries(raw);
        if ('error' in parsed) return parsed;
        for (const item of parsed.value) {
          const problem = options.each?.(item);
          if (problem) return { error: problem };
        }
        return parsed;
      }),
      empty: (raw) => {
        const parsed = listEntries(raw);
        return 'value' in parsed && parsed.value.length === 0;
      },
    };
  },

  url(options: Options<string> & { protocols: readonly string[] }): FieldSpec<string> {
    return spec<string>(options, (raw) => {
      // NATS_URL may list several servers, comma-separated.
      for (const part of raw.split(',')) {
        let url: URL;
        try {
          url = new URL(part.trim());
        } catch {
          return { error: `must be a URL like ${options.protocols[0]}://host:port, got "${part}"` };
        }
        const protocol = url.protocol.replace(/:$/, '');
        if (!options.protocols.includes(protocol)) {
          return { error: `must use ${options.protocols.join(' or ')}://, got "${protocol}://"` };
        }
      }
      return { value: raw };
    });
  },
};

/** A start-up failure whose message tells the operator what to do: printed without a stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A variable's raw value, or undefined when it is absent or blank. Blank counts as unset so
 * that compose's `VAR: ${VAR:-}` (always set, often empty) falls through to the alias and
 * the default instead of hiding them: an empty `BEACON_AUTH_TOKEN` once switched auth off
 * while `SERVICE_DISCOVERY_SECRET` was set.
 */
function given(source: NodeJS.ProcessEnv, name: string | undefined, field: FieldSpec<unknown>): string | undefined {
  const raw = name === undefined ? undefined : source[name];
  return raw === undefined || raw.trim() === '' || field.empty?.(raw) ? undefined : raw;
}

/** Reads and validates every variable of `schema` from `source`; throws one `ConfigError`. */
export function loadEnv<S extends EnvSchema>(schema: S, source: NodeJS.ProcessEnv = process.env): EnvValues<S> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, field] of Object.entries(schema)) {
    const fromName = given(source, name, field);
    const raw = fromName ?? given(source, field.alias, field);
    const used = fromName !== undefined ? name : field.alias;
    if (raw === undefined) {
      if ('default' in field) values[name] = field.default;
      else problems.push(`${name} is required (${field.doc})`);
      continue;
    }
    const parsed = field.parse(raw);
    if ('error' in parsed) problems.push(`${used} ${parsed.error}`);
    else values[name] = parsed.value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as EnvValues<S>;
}

/** One line per variable: name, default and purpose (`<app> --help`). */
export function describeEnv(schema: EnvSchema): string {
  return Object.entries(schema)
    .map(([name, field]) => {
      const fallback = field.default === undefined ? '' : ` (default ${JSON.stringify(field.default)})`;
      const alias = field.alias ? ` [also ${field.alias}]` : '';
      return `${name}${alias}${fallback}: ${field.doc}`;
    })
    .join('\n');
}
