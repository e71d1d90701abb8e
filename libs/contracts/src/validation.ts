import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { compilePlan, satisfiesPlan, type ValidationPlan } from './compiled-validation';
import type { FieldError } from './responses';
import { ServiceQueryDto } from './service.dto';

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const MAX_DEPTH = 8;

/**
 * Names every plain object inherits (`constructor`, `toString`, `__proto__`, …).
 * class-transformer mistakes them for the object's own machinery: a `constructor` key
 * anywhere crashes `plainToInstance` (a 500), and a `toString` key is silently dropped
 * (from metadata too). They are no Beacon field, so they are refused like operators.
 */
function isReservedKey(key: string): boolean {
  return Object.prototype.hasOwnProperty.call(Object.prototype, key);
}

/**
 * Keys that start with `$` are query operators in MongoDB (`{"$ne": ""}`) and never a
 * legitimate Beacon field: reject them anywhere in the input, before anything else looks.
 */
export function findOperatorKeys(input: unknown, path = '', depth = 0): FieldError[] {
  if (typeof input !== 'object' || input === null) return [];
  if (depth > MAX_DEPTH) return [{ field: path || '(body)', message: 'is nested too deeply' }];
  const found: FieldError[] = [];
  for (const [key, value] of Object.entries(input)) {
    const field = path ? `${path}.${key}` : key;
    if (key.startsWith('$') || key.includes('[$')) {
      found.push({ field, message: 'operator keys ("$…") are not allowed' });
    } else if (isReservedKey(key)) {
      found.push({ field, message: 'is a reserved name and not allowed as a key' });
    } else {
      found.push(...findOperatorKeys(value, field, depth + 1));
    }
  }
  return found;
}

/**
 * Rules that say what kind of value a field takes, in the order they are reported. When a
 * value is of the wrong kind, every other rule fails too, and for the wrong reason
 * (`"http"` is "less than 1", `"a,b"` has "more than 64 elements"): so a field reports
 * its kind first, and otherwise the first rule it breaks, in the order the rules are declared.
 */
const KIND_RULES = ['whitelistValidation', 'isSingleValue', 'isArray', 'isString', 'isInt', 'isNumber', 'isBoolean', 'isObject'];

/** The one rule a field is reported for, out of those it broke (in declaration order). */
function firstBroken(constraints: Record<string, string>): [rule: string, message: string] | undefined {
  const broken = Object.keys(constraints);
  const rule = KIND_RULES.find((kind) => kind in constraints) ?? broken[0];
  return rule === undefined ? undefined : [rule, constraints[rule] as string];
}

/** One error per field: the first rule it breaks (see `firstBroken`). */
function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const broken = firstBroken(error.constraints ?? {});
    const own: FieldError[] = [];
    if (broken) {
      const [rule, message] = broken;
      own.push({
        field,
        message:
          rule === 'whitelistValidation'
            ? 'is not an accepted field'
            : message.startsWith(`${error.property} `)
              ? message.slice(error.property.length + 1)
              : message,
      });
    }
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
} as const;

/** Plans by class, compiled on first use (decorators have all run by then). */
const plans = new Map<ClassConstructor<object>, ValidationPlan | null>();

function planFor(cls: ClassConstructor<object>): ValidationPlan | null {
  let plan = plans.get(cls);
  if (plan === undefined) {
    plan = compilePlan(cls);
    plans.set(cls, plan);
  }
  return plan;
}

/**
 * Validates untrusted input (an HTTP body or query, a NATS message) against a contract
 * class. Unknown fields, `$` operators and wrong types all come back as field errors;
 * the input is never mutated. Valid input is confirmed by the class's compiled plan;
 * anything else goes through class-validator for its exact errors.
 */
export function validateInput<T extends object>(cls: ClassConstructor<T>, input: unknown): Validated<T> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '(body)', message: 'must be a JSON object' }] };
  }
  const operators = findOperatorKeys(input);
  if (operators.length > 0) return { ok: false, errors: operators };
  const instance = plainToInstance(cls, input, { exposeDefaultValues: false });
  const plan = planFor(cls);
  if (plan && satisfiesPlan(plan, instance)) return { ok: true, value: instance };
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) return { ok: false, errors: flatten(errors) };
  return { ok: true, value: instance };
}

const METADATA_PREFIX = 'metadata.';

/**
 * A list/discover query string: `metadata.<key>=<value>` parameters become the
 * `metadata` filter map, everything else is validated as `ServiceQueryDto`.
 */
export function parseServiceQuery(query: Record<string, unknown>): Validated<ServiceQueryDto> {
  const plain: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(query)) {
    // Checked here, before the keys are copied into plain objects that would swallow `__proto__`.
    if (isReservedKey(key) || (key.startsWith(METADATA_PREFIX) && isReservedKey(key.slice(METADATA_PREFIX.length)))) {
      errors.push({ field: key, message: 'is a reserved name and not allowed as a key' });
      continue;
    }
    if (!key.startsWith(METADATA_PREFIX)) {
      plain[key] = value;
      continue;
    }
    const metaKey = key.slice(METADATA_PREFIX.length);
    if (Array.isArray(value)) errors.push({ field: key, message: 'must be given once' });
    else if (metaKey.length === 0) errors.push({ field: key, message: 'needs a key: metadata.<key>=<value>' });
    else metadata[metaKey] = value;
  }
  if (errors.length > 0) return { ok: false, errors };
  if (Object.keys(metadata).length > 0) plain.metadata = metadata;
  return validateInput(ServiceQueryDto, plain);
}
