import { WEBHOOK_ALL_EVENTS, WEBHOOK_EVENT_TYPES, type FieldError } from '@beacon/contracts';
import { ContractPipe, InvalidInputException, RawBody, SsrfGuard, targetUrlRefusal } from '@beacon/platform';
import { Inject, Injectable, PayloadTooLargeException, type PipeTransform } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { entryLimitProblems, entryLimitsOf, type EntryLimits } from '../limits/entry-limits';
import { WEBHOOK_LIMITS, WebhookBodyDto } from './webhook.dto';

const KNOWN_EVENTS: ReadonlySet<string> = new Set([...WEBHOOK_EVENT_TYPES, WEBHOOK_ALL_EVENTS]);
const KNOWN_LIST = `${WEBHOOK_EVENT_TYPES.join(', ')}, or "${WEBHOOK_ALL_EVENTS}" for all`;

/** What the contract class cannot say: each event name known, the URL one Beacon may contact. */
export function webhookBodyProblems(body: WebhookBodyDto, guard: SsrfGuard): FieldError[] {
  const problems: FieldError[] = [];
  body.events.forEach((event, index) => {
    if (!KNOWN_EVENTS.has(event)) problems.push({ field: `events[${index}]`, message: `"${event}" is not an event; known: ${KNOWN_LIST}` });
  });
  const refusal = targetUrlRefusal(guard, body.url);
  if (refusal) problems.push({ field: 'url', message: refusal });
  return problems;
}

/**
 * A webhook body, whole: at most 16 KiB (413), the contract class, then event names, the
 * SSRF policy on the URL (PROBE_DENY_CIDRS / PROBE_ALLOW_CIDRS, as health checks) and the
 * deployment's tag limit; every refusal a 400 naming its field, like every other body.
 */
@Injectable()
export class WebhookBodyPipe implements PipeTransform<unknown, WebhookBodyDto> {
  private readonly contract = ContractPipe.of(WebhookBodyDto);
  private readonly limits: EntryLimits;

  constructor(
    @Inject(SsrfGuard) private readonly guard: SsrfGuard,
    @Inject(REGISTRY_ENV) config: RegistryEnv,
  ) {
    this.limits = entryLimitsOf(config);
  }

  transform(value: unknown): WebhookBodyDto {
    if (value instanceof RawBody && value.bytes.length > WEBHOOK_LIMITS.bodyBytes) {
      throw new PayloadTooLargeException({ detail: `Webhook body is larger than ${WEBHOOK_LIMITS.bodyBytes} bytes` });
    }
    const body = this.contract.transform(value);
    const problems = [...webhookBodyProblems(body, this.guard), ...entryLimitProblems(body, this.limits)];
    if (problems.length > 0) throw new InvalidInputException(problems, 'body');
    return body;
  }
}
