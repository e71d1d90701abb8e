/**
 * Field limits. Seed 000's where it sets one (name, type, host, port, protocol, ttl);
 * the others bound what a 64 KiB body could otherwise smuggle into every event and TXT record.
 */
export const LIMITS = {
  name: { min: 1, max: 100 },
  type: { min: 1, max: 50 },
  host: { min: 1, max: 255 },
  port: { min: 1, max: 65535 },
  protocol: { min: 1, max: 20 },
  ttl: { min: 10, max: 86400 },
  version: { max: 64 },
  nodeId: { max: 128 },
  instanceId: { max: 128 },
  tags: { maxCount: 64, maxLength: 100 },
  metadata: { maxKeys: 64, maxKeyLength: 128, maxValueLength: 1024 },
  healthCheckUrl: { max: 2048 },
  /** Seed 004's `health_endpoint` path; with any host and port the URL stays under `healthCheckUrl.max`. */
  healthEndpoint: { max: 1024 },
  /** The original allowed 30–3600; Beacon accepts shorter intervals too. */
  healthCheckInterval: { min: 1, max: 3600 },
  healthCheckTimeout: { min: 1, max: 300 },
  healthCheckRetries: { min: 1, max: 100 },
  healthCheckRise: { min: 1, max: 100 },
  listLimit: { min: 1, max: 100 },
} as const;

export const DEFAULTS = {
  type: 'http',
  protocol: 'http',
  ttl: 300,
  healthCheckInterval: 60,
  healthCheckTimeout: 5,
  healthCheckRetries: 3,
  healthCheckRise: 1,
  listLimit: 50,
} as const;

/** Largest accepted request body (bigger bodies get 413). */
export const MAX_BODY_BYTES = 64 * 1024;
