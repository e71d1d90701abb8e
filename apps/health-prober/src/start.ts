import 'reflect-metadata';
import { MAX_BODY_BYTES } from '@beacon/contracts';
import { ROOT_LOGGER, createHttpApp, loadEnv, type AppEntry, type Logger, type RunningApp } from '@beacon/platform';
import { AppModule } from './app.module';
import { proberEnv } from './config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

export const appName = 'health-prober';
export const envSchema = proberEnv;

/** health-prober, configured from `env`, listening. */
export async function start(env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const config = loadEnv(proberEnv, env);
  const app = await createHttpApp(AppModule.forRoot(config, version), { bodyLimit: MAX_BODY_BYTES });
  const logger = app.get<Logger>(ROOT_LOGGER);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  logger.info({ port: config.HTTP_PORT, member: config.MEMBER_ID }, 'health-prober running');
  return { app, logger, shutdownTimeoutSeconds: config.SHUTDOWN_TIMEOUT };
}

export default { appName, envSchema, start } satisfies AppEntry;
