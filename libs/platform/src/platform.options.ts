import type { PlatformEnv } from './config/platform-env';
import type { EventStreamDuty } from './nats/event-stream';

export const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export interface PlatformOptions {
  /** Process name in logs, metrics (`app` label) and the NATS connection. */
  appName: string;
  version: string;
  env: PlatformEnv;
  /**
   * Connect to NATS (default true). An app that can work without it (node-role-elector
   * on its mDNS backend) passes false: no connection is made, readiness does not ask for
   * one, and `NatsService` is not provided (inject it with `@Optional()`).
   */
  nats?: boolean;
  /** This app's part for the `BEACON_EVENTS` stream (default `none`; see `EventStreamDuty`). */
  eventStream?: EventStreamDuty;
}
