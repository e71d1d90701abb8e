import 'reflect-metadata';
import { MAX_BODY_BYTES } from '@beacon/contracts';
import { ROOT_LOGGER, TokenVerifier, createHttpApp, loadEnv, runMain, type Logger } from '@beacon/platform';
import { AppModule } from './app.module';
import { gatewayEnv } from './config';
import { checkConnect, requestUrl } from './ws/access';
import { GatewayWsAdapter } from './ws/ws.adapter';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

runMain('realtime-gateway', gatewayEnv, async () => {
  const config = loadEnv(gatewayEnv);
  const app = await createHttpApp(AppModule.forRoot(config, version), { bodyLimit: MAX_BODY_BYTES });
  const verifier = new TokenVerifier(config.BEACON_AUTH_TOKEN);
  app.useWebSocketAdapter(new GatewayWsAdapter(app, (request) => checkConnect(verifier, requestUrl(request), request.headers)));
  const logger = app.get<Logger>(ROOT_LOGGER);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  logger.info({ port: config.HTTP_PORT, ws: '/api/v1/ws', sse: '/api/v1/events', dashboard: '/' }, 'realtime-gateway listening');
  return { app, logger, shutdownTimeoutSeconds: config.SHUTDOWN_TIMEOUT };
});
