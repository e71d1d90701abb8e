import { Transform } from 'class-transformer';
import { ValidateIf, registerDecorator, isIP, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { isReservedMdnsServiceType } from './mdns-types';

/**
 * The field may be absent, but `null` is rejected (for fields a partial update may
 * change but never clear, such as `name` or `port`).
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/**
 * Integers arrive as JSON numbers or, from shell scripts and query strings, as digit
 * strings. The original (Pydantic, lax mode) accepted `"8080"`; so does Beacon.
 * Anything else (`"80a"`, `8.5`, `true`) is left as is for `@IsInt` to reject.
 */
export function ToInt(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : value,
  );
}

/** A query parameter given as `?tags=a&tags=b`, `?tags=a,b` or a JSON array → string[]. */
export function ToStringList(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    const items = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) return value;
    return items
      .flatMap((item: string) => item.split(','))
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  });
}

/** Query parameters must be given once: `?type=a&type=b` is ambiguous, not a list. */
export function IsSingleValue(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isSingleValue',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: '$property must be given once', ...options },
      validator: { validate: (value: unknown) => !Array.isArray(value) },
    });
}

const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** An IPv4/IPv6 address or a DNS host name; not a URL (`http://x` is a common slip). */
export function isHostName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return false;
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(bare)) return true;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  return name.length > 0 && name.split('.').every((label) => HOST_LABEL.test(label));
}

export function IsHostName(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHostName',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: '$property must be an IP address or a host name (not a URL)',
        ...options,
      },
      validator: { validate: isHostName },
    });
}

/** `host:port` or `[v6]:port`, as in `health_check_tcp`. */
export function isHostPort(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const [, host, port] = match as unknown as [string, string, string];
  const portNumber = Number(port);
  if (portNumber < 1 || portNumber > 65535) return false;
  if (host.includes(':') && !(host.startsWith('[') && host.endsWith(']'))) return false;
  return isHostName(host);
}

export function IsHostPort(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHostPort',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: '$property must be "host:port" with a port in 1–65535', ...options },
      validator: { validate: isHostPort },
    });
}

/**
 * C0 controls, DEL and C1 controls. Invisible in every view and log, they let two
 * different names print alike, end a DNS-SD label or a log line early, and (NUL) made
 * `("a\0b", "c")` and `("a", "b\0c")` one index key once.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Format characters (Cf: U+200B, U+00AD, U+FEFF, bidi overrides such as U+202E, tag
 * characters U+E0001…) and line/paragraph separators (U+2028, U+2029). They print as
 * nothing, or reorder what follows: "a\u200bb" would register beside "ab" and look the
 * same in the dashboard, a log and an mDNS browser. Refused, never normalised: a name
 * stays exactly what its owner sent.
 */
const FORMAT_CHARACTER = /[\p{Cf}\p{Zl}\p{Zp}]/u;

/** What a refusal calls each kind, and the code points it means. */
interface InvisibleRule {
  what: string;
  which: string;
}

const CONTROL_RULE: InvisibleRule = { what: 'control characters', which: 'U+0000–U+001F, U+007F–U+009F' };
const FORMAT_RULE: InvisibleRule = {
  what: 'invisible format characters or line separators',
  which: 'Unicode Cf, Zl, Zp, such as U+200B, U+202E, U+FEFF',
};

export function hasControlCharacter(value: unknown): boolean {
  return typeof value === 'string' && CONTROL_CHARACTER.test(value);
}

export function hasFormatCharacter(value: unknown): boolean {
  return typeof value === 'string' && FORMAT_CHARACTER.test(value);
}

/** Which kind of invisible character `value` holds, or null. */
function invisibleRule(value: unknown): InvisibleRule | null {
  if (hasControlCharacter(value)) return CONTROL_RULE;
  return hasFormatCharacter(value) ? FORMAT_RULE : null;
}

/** With `each: true` the message gets the whole array: the first item refused is the one to name. */
function refusedItem(value: unknown): unknown {
  return Array.isArray(value) ? value.find((item) => invisibleRule(item) !== null) : value;
}

/** `text` quoted with its format characters as `\uXXXX` too (JSON escapes only controls), so a refusal shows them. */
function quoteVisibly(text: string): string {
  return JSON.stringify(text).replace(/[\p{Cf}\p{Zl}\p{Zp}]/gu, (char) =>
    Array.from({ length: char.length }, (_, at) => `\\u${char.charCodeAt(at).toString(16).padStart(4, '0')}`).join(''),
  );
}

/**
 * Text that names or identifies something: no control characters, format characters or
 * line separators (a non-string is left to `IsString`).
 */
export function NoControlCharacters(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'noControlCharacters',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: (args: ValidationArguments) => {
          const { what, which } = invisibleRule(refusedItem(args.value)) ?? CONTROL_RULE;
          return `${args.property} must not contain ${what} (${which})`;
        },
        ...options,
      },
      validator: { validate: (value: unknown) => invisibleRule(value) === null },
    });
}

/**
 * Whether a URL carries a user name or password (`http://user:pass@host/`). Read as
 * WHATWG `URL` reads it, which is how the prober's HTTP client will read it; text that
 * is no URL at all is left to `IsUrl`.
 */
export function hasUrlCredentials(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

/** A URL that Beacon stores and shows to every reader of the catalog, so it must hold no secret. */
export function NoUrlCredentials(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'noUrlCredentials',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message:
          '$property must not contain credentials (user:password@): it is stored and shown to everyone who can read the catalog; keep secrets out of it',
        ...options,
      },
      validator: { validate: (value: unknown) => !hasUrlCredentials(value) },
    });
}

/** Not one of the DNS-SD types Beacon announces itself under (see `RESERVED_MDNS_SERVICE_TYPES`). */
export function NotReservedMdnsType(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'notReservedMdnsType',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: (args: ValidationArguments) =>
          `${args.property} "${String(args.value)}" is reserved: it is how devices and nodes find Beacon itself; choose another type`,
        ...options,
      },
      validator: { validate: (value: unknown) => typeof value !== 'string' || !isReservedMdnsServiceType(value) },
    });
}

export interface StringMapLimits {
  maxKeys: number;
  maxKeyLength: number;
  maxValueLength: number;
}

/** Why a value is not a valid string→string map, or null when it is. */
export function stringMapProblem(value: unknown, limits: StringMapLimits): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object of string values';
  }
  const entries = Object.entries(value);
  if (entries.length > limits.maxKeys) return `must have at most ${limits.maxKeys} keys`;
  for (const [key, item] of entries) {
    if (key.length === 0 || key.length > limits.maxKeyLength) {
      return `keys must be 1–${limits.maxKeyLength} characters (got "${key.slice(0, 40)}")`;
    }
    const invisible = invisibleRule(key);
    if (invisible) return `key ${quoteVisibly(key.slice(0, 40))} must not contain ${invisible.what}`;
    if (key.startsWith('$')) return `key "${key}" must not start with "$"`;
    if (typeof item !== 'string') return `value of "${key}" must be a string`;
    if (item.length > limits.maxValueLength) {
      return `value of "${key}" must be at most ${limits.maxValueLength} characters`;
    }
  }
  return null;
}

export function IsStringMap(limits: StringMapLimits, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [limits],
      options: {
        message: (args: ValidationArguments) => `${args.property} ${stringMapProblem(args.value, limits) ?? 'is invalid'}`,
        ...options,
      },
      validator: { validate: (value: unknown) => stringMapProblem(value, limits) === null },
    });
}
