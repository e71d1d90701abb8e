import { Inject, Injectable, PayloadTooLargeException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, preParsingHookHandler } from 'fastify';
import { REGISTRY_ENV, type RegistryEnv } from '../config';

/** The one route whose body is a whole catalog. */
export const IMPORT_ROUTE = { method: 'POST', url: '/api/v1/import' } as const;

/**
 * Gives `POST /api/v1/import` its own body limit (BEACON_IMPORT_MAX_BYTES); every other
 * route keeps the app's 64 KiB. Fastify takes a route's `bodyLimit` over its body
 * reader's, and Nest has no decorator for it, so this sets it as the route is added:
 * Nest builds its providers (this constructor) before it registers any route.
 */
@Injectable()
export class ImportBodyLimit {
  constructor(@Inject(HttpAdapterHost) host: HttpAdapterHost, @Inject(REGISTRY_ENV) config: RegistryEnv) {
    const fastify = host.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (route.url !== IMPORT_ROUTE.url || !methods.includes(IMPORT_ROUTE.method)) return;
      const limit = config.BEACON_IMPORT_MAX_BYTES;
      route.bodyLimit = limit;
      // The app-wide 413 names the app's limit; a declared length over this route's is
      // refused first with its own (a chunked body still stops at the limit, as a bare 413).
      const tooLarge: preParsingHookHandler = (request, _reply, payload, done) => {
        const length = Number(request.headers['content-length']);
        if (length > limit) {
          done(new PayloadTooLargeException({ detail: `Import body is larger than ${limit} bytes (BEACON_IMPORT_MAX_BYTES)` }));
        } else done(null, payload);
      };
      const existing = route.preParsing;
      route.preParsing = existing === undefined ? [tooLarge] : [...(Array.isArray(existing) ? existing : [existing]), tooLarge];
    });
  }
}
