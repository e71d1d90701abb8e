import type { PlatformEnv } from './config/platform-env';

export const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export interface PlatformOptions {
  /** Process name in logs, metrics (`app` label) and the NATS connection. */
  appName: string;
  version: string;
  env: PlatformEnv;
}
