import {
  DELIVERY_STATUSES,
  Field,
  IsSingleValue,
  NoControlCharacters,
  ToInt,
  WEBHOOK_FORMATS,
  rules,
  type DeliveryStatus,
  type WebhookFormat,
} from '@beacon/contracts';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

/** What one webhook definition may hold; bodies beyond `bodyBytes` are refused whole (413). */
export const WEBHOOK_LIMITS = {
  url: 2048,
  description: 200,
  secret: { min: 16, max: 256 },
  /** Event names a list may carry (duplicates included): a few more than there are. */
  events: 32,
  bodyBytes: 16 * 1024,
  deliveries: { default: 50, max: 200 },
} as const;

/**
 * `POST /api/v1/webhooks` and `PUT /api/v1/webhooks/{id}` (a whole definition). Null in
 * an optional field means its default; in `secret` on PUT it removes the stored one, and
 * an absent `secret` keeps it. Event names are checked one by one afterwards
 * (`webhookBodyProblems`), so an unknown one is named with its position.
 */
export class WebhookBodyDto {
  @IsString()
  @MaxLength(WEBHOOK_LIMITS.url)
  url!: string;

  @IsArray()
  @ArrayMinSize(1, { message: 'events must list at least one event, or "*"' })
  @ArrayMaxSize(WEBHOOK_LIMITS.events)
  @IsString({ each: true })
  events!: string[];

  @IsOptional()
  @IsIn(WEBHOOK_FORMATS, { message: `format must be one of ${WEBHOOK_FORMATS.join(', ')}` })
  format?: WebhookFormat | null;

  @IsOptional()
  @IsUUID('all', { message: 'service_id must be a service id (a UUID)' })
  service_id?: string | null;

  @IsOptional()
  @Field.type()
  type?: string | null;

  @IsOptional()
  @Field.tags()
  tags?: string[] | null;

  @IsOptional()
  @IsString()
  @Length(WEBHOOK_LIMITS.secret.min, WEBHOOK_LIMITS.secret.max)
  secret?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(WEBHOOK_LIMITS.description)
  @NoControlCharacters()
  description?: string | null;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean | null;
}

/** `GET /api/v1/webhooks/{id}/deliveries?limit=&status=`. */
export class DeliveriesQueryDto {
  @IsOptional()
  @IsSingleValue()
  @rules(ToInt(), IsInt(), Min(1), Max(WEBHOOK_LIMITS.deliveries.max))
  limit?: number;

  @IsOptional()
  @IsSingleValue()
  @IsIn(DELIVERY_STATUSES, { message: `status must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;
}
