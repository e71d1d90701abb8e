import 'reflect-metadata';
import { MAX_BODY_BYTES } from '@beacon/contracts';
import {
  OriginPolicy,
  ROOT_LOGGER,
  TokenVerifier,
  createHttpApp,
  loadEnv,
  logAuthStatus,
  type AppEntry,
  type Logger,
  type RunningApp,
} from '@beacon/platform';
import { AppModule } from './app.module';
import { gatewayEnv } from './config';
import { checkConnect, refuseForeignOrigins, requestUrl } from './ws/access';
import { GatewayWsAdapter } from './ws/ws.adapter';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

export const appName = 'realtime-gateway';
export const envSchema = gatewayEnv;

/** realtime-gateway, configured from `env`, listening. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const config = loadEnv(gatewayEnv, env);
  const app = await createHttpApp(AppModule.forRoot(config, version), { bodyLimit: MAX_BODY_BYTES, corsOrigins: config.CORS_ORIGINS });
  const verifier = new TokenVerifier(config.BEACON_AUTH_TOKEN);
  const origins = new OriginPolicy(config.CORS_ORIGINS);
  refuseForeignOrigins(app.getHttpAdapter().getInstance(), origins, ['/api/v1/events']);
  app.useWebSocketAdapter(
    new GatewayWsAdapter(
      app,
      (request) => origins.check(request.headers, 'open this stream') ?? checkConnect(verifier, requestUrl(request), request.headers),
    ),
  );
  const logger = app.get<Logger>(ROOT_LOGGER);
  logAuthStatus(logger, config.BEACON_AUTH_TOKEN, ['WebSocket', 'SSE'], ['/metrics']);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  const cors = config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : 'off (same origin only)';
  logger.info({ port: config.HTTP_PORT, ws: '/api/v1/ws', sse: '/api/v1/events', dashboard: '/', cors }, 'realtime-gateway listening');
  return { app, logger, shutdownTimeoutSeconds: config.SHUTDOWN_TIMEOUT };
}

export default { appName, envSchema, start } satisfies AppEntry;
