import 'reflect-metadata';
import { MAX_BODY_BYTES } from '@beacon/contracts';
import {
  ROOT_LOGGER,
  createHttpApp,
  loadEnv,
  logAuthStatus,
  type AppEntry,
  type Guarded,
  type Logger,
  type RunningApp,
} from '@beacon/platform';
import { AppModule } from './app.module';
import { registryEnv, type RegistryEnv } from './config';
import { installRateLimits, trustedProxies } from './limits/rate-limits';
import { setupOpenApi } from './openapi';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/** What the token guards here, and what stays open: reads and /metrics go together. */
function authScope(config: RegistryEnv): [Guarded[], Guarded[]] {
  const reads: Guarded[] = ['reads', '/metrics'];
  return config.BEACON_AUTH_READS ? [['writes', ...reads], []] : [['writes'], reads];
}

export const appName = 'registry-api';
export const envSchema = registryEnv;

/** registry-api, configured from `env`, listening. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const config = loadEnv(registryEnv, env);
  const app = await createHttpApp(AppModule.forRoot(config, version), {
    bodyLimit: MAX_BODY_BYTES,
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: trustedProxies(config.BEACON_TRUST_PROXY),
  });
  await installRateLimits(app, config);
  setupOpenApi(app, version);
  const logger = app.get<Logger>(ROOT_LOGGER);
  logAuthStatus(logger, config.BEACON_AUTH_TOKEN, ...authScope(config));
  await app.listen({ port: config.BEACON_PORT, host: config.BEACON_HOST });
  const cors = config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : 'off (same origin only)';
  logger.info({ url: `http://${config.BEACON_HOST}:${config.BEACON_PORT}`, docs: '/api/docs', cors }, 'registry-api listening');
  return { app, logger, shutdownTimeoutSeconds: config.SHUTDOWN_TIMEOUT };
}

export default { appName, envSchema, start } satisfies AppEntry;
