import 'reflect-metadata';
import { MAX_BODY_BYTES } from '@beacon/contracts';
import { ROOT_LOGGER, createHttpApp, type AppEntry, type Logger, type RunningApp } from '@beacon/platform';
import { AppModule } from './app.module';
import { electorEnv, loadElectorEnv } from './config';
import { ElectorService } from './elector.service';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

export const appName = 'node-role-elector';
export const envSchema = electorEnv;

/**
 * node-role-elector, configured from `env` and `argv` (`--role`; its own process passes its
 * arguments, the single process none), listening.
 */
export async function start(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Promise<RunningApp> {
  const config = loadElectorEnv(env, argv);
  const app = await createHttpApp(AppModule.forRoot(config, version), { bodyLimit: MAX_BODY_BYTES });
  const logger = app.get<Logger>(ROOT_LOGGER);
  const elector = app.get(ElectorService);
  // Every request, /metrics and /health included, first checks the lease deadline: a
  // process resumed after a pause must not answer as server for a lease that lapsed.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_request, _reply, done) => {
      elector.guard();
      done();
    });
  await app.listen({ port: config.ELECTOR_PORT, host: config.ELECTOR_HOST });
  logger.info(
    { port: config.ELECTOR_PORT, node_id: config.NODE_ID, backend: config.DISCOVERY_BACKEND, role: config.ROLE },
    'node-role-elector running',
  );
  return { app, logger, shutdownTimeoutSeconds: config.SHUTDOWN_TIMEOUT };
}

export default { appName, envSchema, start } satisfies AppEntry;
