/**
 * Beacon's apps in one Node process (single-box mode, like Loki's `-target=all`): each is
 * still its own Nest application, with its own module tree, port, /health, /ready and
 * /metrics (its own Prometheus registry) and its own NATS connection and identity, and
 * they still talk only through NATS subjects. They share only code (one copy of Nest,
 * Fastify, nats.js in memory), which is what makes the stack small.
 *
 * BEACON_APPS picks the apps (default all), BEACON_APP_ENV carries each one's own
 * variables (src/selection.ts). One app failing to start, an uncaught exception or
 * unhandled rejection, or an app's server closing on its own ends the whole process with
 * code 1: no app is left half-alive beside a dead one, and the launcher starts them all
 * again. SIGTERM/SIGINT stop them in STOP_STAGES order within SHUTDOWN_TIMEOUT.
 */
import { writeSync } from 'node:fs';
import { ConfigError, HealthService, StartupError, appLogScope, type AppEntry, type RunningApp } from '@beacon/platform';
import {
  APP_ENV_VARIABLE,
  APP_NAMES,
  APPS_VARIABLE,
  STOP_STAGES,
  SelectionError,
  appEnv,
  parseOverrides,
  selectApps,
  type AppName,
  type AppOverrides,
} from './selection';

const SELF = 'beacon-single';

/** Synchronous, so the last words before an exit are not lost in a pipe. */
const say = (line: string): void => void writeSync(2, `${line}\n`);

const running = new Map<AppName, RunningApp>();
let stopping = false;

/** An app's entry, loaded only when it is to run (the others' code stays on disk). */
function entryOf(name: AppName): AppEntry {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(`@beacon/${name}/start`) as { default?: AppEntry };
  if (!loaded.default || loaded.default.appName !== name) throw new Error(`@beacon/${name}/start does not export its AppEntry`);
  return loaded.default;
}

/** What a failed start says: a configuration error is its message alone, anything else its stack. */
function startFailure(name: AppName, error: unknown): string {
  if (error instanceof ConfigError || error instanceof StartupError) return `${name}: ${error.message}`;
  return `${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

/** The app whose compiled code threw, from the stack, when it says (a guess for the log, not a decision). */
function culprit(error: unknown): string {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const found = /apps\/([a-z-]+)\/dist\//.exec(stack)?.[1];
  return found ? ` (in ${found}, by its stack)` : '';
}

/** Ends the process now, saying why: for states in which no app can be trusted to stop cleanly. */
function die(message: string): never {
  say(`${SELF}: ${message}; exiting so that every app starts again together`);
  process.exit(1);
}

async function startApp(name: AppName, common: NodeJS.ProcessEnv, overrides: AppOverrides): Promise<void> {
  // Its own log scope: what Nest logs for it, now or from work it starts later, names it.
  const app = await appLogScope.run({}, () => entryOf(name).start(appEnv(common, overrides, name)));
  running.set(name, app);
  // An app whose server closes while nobody is stopping it has died inside a live process.
  app.app.getHttpServer().once('close', () => {
    if (!stopping) die(`${name}'s HTTP server closed while it was running`);
  });
}

/**
 * Stops the running apps stage by stage, each stage's apps together; says `lastWords` (why
 * it stops, kept last so a supervisor's tail of the log shows it) and exits `code`, or 1
 * past the timeout.
 */
async function shutdown(code: number, reason: string, lastWords: string[] = []): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Each app's SHUTDOWN_TIMEOUT bounds its own stop; the longest bounds them all (10 s, the
  // default, while none has started).
  const timeouts = [...running.values()].map((app) => app.shutdownTimeoutSeconds);
  const timeoutSeconds = timeouts.length > 0 ? Math.max(...timeouts) : 10;
  setTimeout(() => die(`stopping took longer than ${timeoutSeconds} s (SHUTDOWN_TIMEOUT)`), timeoutSeconds * 1000).unref();
  // Not ready, all at once, as each process would be on its own signal.
  for (const app of running.values()) {
    app.logger.info({ reason }, 'shutting down');
    app.app.get(HealthService).markShuttingDown();
  }
  for (const stage of STOP_STAGES) {
    await Promise.all(
      stage.map(async (name) => {
        const app = running.get(name);
        if (!app) return;
        await app.app.close();
        app.logger.info(`${name} stopped`);
      }),
    );
  }
  for (const line of lastWords) say(line);
  process.exit(code);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      `${SELF}: Beacon's apps in one process\n\n` +
        `  ${APPS_VARIABLE}     all (default), or a comma-separated list of: ${APP_NAMES.join(', ')}\n` +
        `  ${APP_ENV_VARIABLE}  JSON {"<app>": {"<VARIABLE>": "<value>"}}: each app's own variables, over the common ones\n\n` +
        `Each app reads the variables it reads in its own process (node apps/<app>/dist/main.js --help).\n`,
    );
    return;
  }
  let names: AppName[];
  let overrides: AppOverrides;
  try {
    names = selectApps(process.env[APPS_VARIABLE]);
    overrides = parseOverrides(process.env[APP_ENV_VARIABLE]);
  } catch (error) {
    if (!(error instanceof SelectionError)) throw error;
    say(`${SELF}: ${error.message}`);
    process.exit(1);
  }
  const common = { ...process.env };
  // Not for what the apps start (a role hook): each app has its own variables, not every app's.
  delete process.env[APP_ENV_VARIABLE];
  delete process.env[APPS_VARIABLE];
  const failures: string[] = [];
  // The first failure stops the others at once; one still starting is cut short by the exit.
  const attempt = async (name: AppName): Promise<void> => {
    if (stopping) return;
    try {
      await startApp(name, common, overrides);
    } catch (error) {
      failures.push(startFailure(name, error));
      void shutdown(1, 'an app failed to start', failures);
    }
  };
  // registry-api first, as the launcher does in its own processes; the others together.
  const [first, ...rest] = names;
  if (first === 'registry-api') await attempt(first);
  await Promise.all((first === 'registry-api' ? rest : names).map(attempt));
  if (!stopping) say(`${SELF}: ${names.join(', ')} running in one process (pid ${process.pid})`);
}

process.on('uncaughtException', (error, origin) =>
  die(
    `${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}${culprit(error)}: ${error.stack ?? String(error)}`,
  ),
);
// Under --unhandled-rejections=warn a rejection would not reach uncaughtException.
process.on('unhandledRejection', (reason) =>
  die(`unhandled rejection${culprit(reason)}: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown(0, signal));

main().catch((error: unknown) => die(error instanceof Error ? (error.stack ?? error.message) : String(error)));
