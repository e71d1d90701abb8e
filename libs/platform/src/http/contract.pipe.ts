import { validateInput, type Validated } from '@beacon/contracts';
import type { PipeTransform } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import { InvalidInputException } from './errors';
import { decodeJsonBody } from './request-body';

type Validator<T> = (input: Record<string, unknown>) => Validated<T>;

/**
 * Validates a body or query with its contract class (the same classes NATS handlers use):
 * `@Body(ContractPipe.of(RegisterServiceDto))`. A body is decoded here, by the route that
 * reads it (see `RawBody`). A missing body counts as `{}` so the error names the missing
 * fields.
 */
export class ContractPipe<T extends object> implements PipeTransform<unknown, T> {
  constructor(
    private readonly validate: Validator<T>,
    private readonly what: 'body' | 'query' = 'body',
  ) {}

  static of<T extends object>(contract: ClassConstructor<T>, what: 'body' | 'query' = 'body'): ContractPipe<T> {
    return new ContractPipe((input) => validateInput(contract, input), what);
  }

  transform(value: unknown): T {
    const decoded = this.what === 'body' ? decodeJsonBody(value) : value;
    const input = decoded === undefined || decoded === null ? {} : decoded;
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw new InvalidInputException([{ field: `(${this.what})`, message: 'must be a JSON object' }], this.what);
    }
    const validated = this.validate(input as Record<string, unknown>);
    if (!validated.ok) throw new InvalidInputException(validated.errors, this.what);
    return validated.value;
  }
}
