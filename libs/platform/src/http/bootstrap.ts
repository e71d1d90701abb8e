import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule, Type } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, StartupError, describeEnv, type EnvSchema } from '../config/env';
import { HealthService } from '../health/health.service';
import { NestLogBridge, appLogScope } from '../logging/nest-log-bridge';
import { MetricsService } from '../metrics/metrics.service';
import { ROOT_LOGGER } from '../platform.options';
import { AllExceptionsFilter } from './exception.filter';
import { installMethodNotAllowed } from './method-not-allowed';
import { installBodyReader } from './request-body';
import { OriginPolicy, refuseCrossSiteWrites } from './origin-policy';
import { installSecurityHeaders } from './security-headers';

export interface HttpAppOptions {
  bodyLimit: number;
  /**
   * `CORS_ORIGINS`: `*` or a list of origins other pages may call from; empty (the default)
   * leaves CORS off, so only pages of the same origin can read answers.
   */
  corsOrigins?: string[];
  /**
   * Proxies whose `X-Forwarded-For` names the client (addresses, CIDRs, or proxy-addr's
   * `loopback`, `linklocal`, `uniquelocal`), so `request.ip` is the client behind them.
   * Absent or empty: the peer address, whatever headers say.
   */
  trustProxy?: string[];
}

/**
 * Longest path parameter, in characters as sent. Fastify's default (100) is shorter than
 * ids Beacon accepts (an `instance_id` of 128, a `service_name` of 100 that is longer once
 * percent-encoded), which made `DELETE /v1/discovery/unregister/{name}/{id}` a 414 for
 * records registered within the limits; this still bounds the router's work per request.
 */
const MAX_PARAM_LENGTH = 1024;

/**
 * Errors Fastify answers itself before any route or Nest filter runs (a malformed
 * percent-encoding in the path, a path parameter over `maxParamLength`) get the same
 * `{ detail }` body as every other error, instead of Fastify's own shape.
 */
function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(error.statusCode ?? 400).send({ detail: error.message });
}

function installMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

/** A Nest app on Fastify with Beacon's body limit, body reading, 405s, error bodies, security headers, metrics and logging. */
export async function createHttpApp(module: DynamicModule | Type<unknown>, options: HttpAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit,
    maxParamLength: MAX_PARAM_LENGTH,
    logger: false,
    return503OnClosing: true,
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? options.trustProxy : false,
    frameworkErrors,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { logger: false, abortOnError: false, bodyParser: false });
  const logger = app.get<Logger>(ROOT_LOGGER);
  const scope = appLogScope.getStore();
  if (scope) scope.logger = logger;
  app.useLogger(new NestLogBridge(logger));
  const fastify = app.getHttpAdapter().getInstance();
  installBodyReader(fastify, options.bodyLimit);
  installMethodNotAllowed(fastify);
  installMetrics(fastify, app.get(MetricsService));
  installSecurityHeaders(fastify);
  refuseCrossSiteWrites(fastify, new OriginPolicy(options.corsOrigins ?? []));
  app.useGlobalFilters(new AllExceptionsFilter(logger, options.bodyLimit));
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    // Every method the API has: @fastify/cors answers preflights with GET, HEAD and POST
    // only, so a page on another origin (the dashboard) could not deregister or edit.
    app.enableCors({
      origin: options.corsOrigins.includes('*') ? true : options.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    });
  }
  return app;
}

/** One app, started and listening: what its process (runMain) or the single process (@beacon/single) stops it with. */
export interface RunningApp {
  app: NestFastifyApplication;
  logger: Logger;
  shutdownTimeoutSeconds: number;
}

/**
 * An app's entry for running it: `start(env)` loads its configuration from `env` (never
 * from process.env behind its back) and returns it listening. Each app's src/start.ts
 * exports one; its main.ts runs it alone, @beacon/single runs several in one process.
 */
export interface AppEntry {
  appName: string;
  envSchema: EnvSchema;
  start(env: NodeJS.ProcessEnv): Promise<RunningApp>;
}

/**
 * Runs an app's `main`: a configuration error prints the list of bad variables and exits 1;
 * SIGTERM/SIGINT mark the app not-ready, finish in-flight work, and exit within
 * `shutdownTimeoutSeconds` even if something hangs.
 */
export function runMain(appName: string, envSchema: EnvSchema, main: () => Promise<RunningApp>): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${appName}: configured by environment variables\n\n${describeEnv(envSchema)}\n`);
    return;
  }
  main()
    .then(({ app, logger, shutdownTimeoutSeconds }) => {
      // Its own process: a signal closes the app (Nest's shutdown hooks) and exits. Under
      // @beacon/single the signal is the single process's, which closes its apps in order.
      app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          logger.info({ signal }, 'shutting down');
          app.get(HealthService).markShuttingDown();
          setTimeout(() => {
            logger.error({ timeout_s: shutdownTimeoutSeconds }, 'shutdown took too long; exiting');
            process.exit(1);
          }, shutdownTimeoutSeconds * 1000).unref();
        });
      }
    })
    .catch((error: unknown) => {
      if (error instanceof ConfigError || error instanceof StartupError) {
        process.stderr.write(`${appName}: ${error.message}\n`);
      } else {
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`${appName}: failed to start: ${detail}\n`);
      }
      process.exit(1);
    });
}
