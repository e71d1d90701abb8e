import { ValidationTypes, getMetadataStorage, type ValidationArguments } from 'class-validator';

/**
 * class-validator's executor re-derives a class's rules on every call (filters all
 * metadata, groups it by property, looks up each constraint) and builds error objects
 * for every property, valid or not: ~15 µs for a registration body, a tenth of a
 * request's budget. A plan is those same rules resolved once: for each property, its
 * `ValidateIf`/`IsOptional` conditions and its constraint instances, in class-validator's
 * order. It only answers "valid or not"; the caller asks class-validator itself for the
 * error messages when it is not, so messages and edge cases stay class-validator's.
 */

interface Validator {
  validate(value: unknown, args: ValidationArguments): unknown;
}

interface Check {
  validators: Validator[];
  constraints: unknown[];
  each: boolean;
}

interface PropertyPlan {
  name: string;
  conditions: ((object: object, value: unknown) => boolean)[];
  checks: Check[];
}

export interface ValidationPlan {
  targetName: string;
  allowed: ReadonlySet<string>;
  properties: PropertyPlan[];
}

/** Metadata the plan covers; anything else (nested, promises, IsDefined) leaves a class to class-validator. */
const SUPPORTED = new Set<string>([ValidationTypes.CUSTOM_VALIDATION, ValidationTypes.CONDITIONAL_VALIDATION, ValidationTypes.WHITELIST]);

/** The plan for a class, or null when its rules use something the plan does not model. */
export function compilePlan(target: new () => object): ValidationPlan | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(target, '', false, false, undefined);
  if (metadatas.length === 0 || metadatas.some((metadata) => !SUPPORTED.has(metadata.type))) return null;
  const grouped = storage.groupByPropertyName(metadatas);
  const properties = Object.entries(grouped).map(([name, list]): PropertyPlan => ({
    name,
    conditions: list
      .filter((metadata) => metadata.type === ValidationTypes.CONDITIONAL_VALIDATION)
      .map((metadata) => metadata.constraints[0] as PropertyPlan['conditions'][number]),
    checks: list
      .filter((metadata) => metadata.type === ValidationTypes.CUSTOM_VALIDATION)
      .map((metadata) => ({
        validators: storage.getTargetValidatorConstraints(metadata.constraintCls).map((constraint) => constraint.instance as Validator),
        constraints: metadata.constraints,
        each: metadata.each,
      })),
  }));
  const allowed = new Set(
    Object.entries(grouped)
      .filter(([, list]) => list.length > 0)
      .map(([name]) => name),
  );
  return { targetName: target.name, allowed, properties };
}

function passes(check: Check, object: object, property: string, value: unknown, targetName: string): boolean {
  const args: ValidationArguments = { targetName, property, object, value, constraints: check.constraints };
  for (const validator of check.validators) {
    if (check.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) {
      const items = value instanceof Map ? [...value.values()] : [...value];
      for (const item of items) if (!validator.validate(item, args)) return false;
    } else if (!validator.validate(value, args)) {
      return false;
    }
  }
  return true;
}

/** Whether class-validator (whitelist + forbidNonWhitelisted) would find no error. */
export function satisfiesPlan(plan: ValidationPlan, object: object): boolean {
  for (const key of Object.keys(object)) if (!plan.allowed.has(key)) return false;
  const record = object as Record<string, unknown>;
  for (const property of plan.properties) {
    const value = record[property.name];
    let applies = true;
    for (const condition of property.conditions) applies = condition(object, value) && applies;
    if (!applies) continue;
    for (const check of property.checks) {
      if (!passes(check, object, property.name, value, plan.targetName)) return false;
    }
  }
  return true;
}
