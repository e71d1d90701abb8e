import { IsInt, IsISO8601, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import type { ElectorStatus } from './elector';
import type { ProberCheckRequest } from './health-checks';
import type { ProbeResult } from './events';
import type { MdnsStatus } from './responses';
import type { WebhookDelivery, WebhookTarget } from './monitoring';
import type { Service } from './service';
import { Subjects } from './subjects';
import { ToInt } from './validators';

/** `beacon.registry.snapshot`: one page of the catalog. */
export class SnapshotRequest {
  /** Continue after the previous page: its `next`, an opaque cursor. */
  @IsOptional()
  @IsString()
  @Length(1, 128)
  after?: string;

  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

export interface SnapshotReply {
  v: 1;
  /** Catalog revision when this page was read. Events newer than the first page's revision still apply. */
  revision: number;
  services: Service[];
  /** Opaque cursor for the next page (pass it as `after`), or null on the last one. */
  next: string | null;
}

/** `beacon.registry.expire`: expire one service, only if it is still due and unchanged. */
export class ExpireRequest {
  @IsUUID()
  service_id!: string;

  /** The `expires_at` the caller saw; a heartbeat since then changes it and wins. */
  @IsISO8601({ strict: true })
  expires_at!: string;
}

export interface ExpireReply {
  v: 1;
  expired: boolean;
  /**
   * When not expired because the deadline moved (a heartbeat or a passing check since):
   * the current one, so the caller can wait for it without an event telling it.
   */
  expires_at?: string;
}

/** `beacon.registry.sweep`: expire everything due (a safety net). */
export class SweepRequest {
  /** The caller's clock; the registry uses the earlier of it and its own. */
  @IsOptional()
  @IsISO8601({ strict: true })
  now?: string;
}

export interface SweepReply {
  v: 1;
  expired: number;
}

/**
 * `beacon.registry.purge`: delete records that expired before `older_than`. The registry
 * reads a cutoff past its own clock as now: a purge removes only what has expired.
 */
export class PurgeRequest {
  @IsISO8601({ strict: true })
  older_than!: string;
}

export interface PurgeReply {
  v: 1;
  removed: number;
}

/** `beacon.registry.webhooks` (realtime-gateway): every webhook, URL and secret in full. */
export interface WebhooksReply {
  v: 1;
  webhooks: WebhookTarget[];
}

/** `beacon.webhooks.test`: send this webhook a sample now. */
export interface WebhookTestRequest {
  webhook_id: string;
}

export interface WebhookTestReply {
  v: 1;
  delivery: WebhookDelivery;
}

/** Every request/reply error: the request was refused and changed nothing. */
export interface RequestErrorReply {
  v: 1;
  error: { code: 'bad_request' | 'not_found' | 'internal'; message: string; fields?: { field: string; message: string }[] };
}

/** Subject → request and reply types, for typed `request` and handlers. */
export interface RequestReplies {
  [Subjects.registrySnapshot]: { request: SnapshotRequest; reply: SnapshotReply };
  [Subjects.registryExpire]: { request: ExpireRequest; reply: ExpireReply };
  [Subjects.registrySweep]: { request: SweepRequest; reply: SweepReply };
  [Subjects.registryPurge]: { request: PurgeRequest; reply: PurgeReply };
  [Subjects.mdnsStatus]: { request: Record<string, never>; reply: MdnsStatus & { v: 1 } };
  [Subjects.proberCheck]: { request: ProberCheckRequest; reply: ProbeResult & { v: 1 } };
  [Subjects.electorStatus]: { request: Record<string, never>; reply: ElectorStatus };
  [Subjects.registryWebhooks]: { request: Record<string, never>; reply: WebhooksReply };
  [Subjects.webhookTest]: { request: WebhookTestRequest; reply: WebhookTestReply };
}

export type RequestSubject = keyof RequestReplies;
