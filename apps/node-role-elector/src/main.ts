import 'reflect-metadata';
import { MAX_BODY_BYTES } from '@beacon/contracts';
import { ROOT_LOGGER, createHttpApp, loadEnv, runMain, type Logger } from '@beacon/platform';
import { AppModule } from './app.module';
import { electorEnv } from './config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

runMain('node-role-elector', electorEnv, async () => {
  const config = loadEnv(electorEnv);
  const app = await createHttpApp(AppModule.forRoot(config, version), { bodyLimit: MAX_BODY_BYTES });
  const logger = app.get<Logger>(ROOT_LOGGER);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  logger.info({ port: config.HTTP_PORT }, 'node-role-elector running');
  return { app, logger, shutdownTimeoutSeconds: config.SHUTDOWN_TIMEOUT };
});
