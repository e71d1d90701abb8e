import type { FastifyInstance } from 'fastify';
import FindMyWay from 'find-my-way';

export interface RouterOptions {
  ignoreTrailingSlash?: boolean;
  ignoreDuplicateSlashes?: boolean;
  caseSensitive?: boolean;
  maxParamLength?: number;
}

/** A path pattern and every method registered on it. */
interface KnownPath {
  pattern: string;
  methods: Set<string>;
}

/** Paths a route answers on whatever the path: a catch-all (`@fastify/cors`'s `OPTIONS *`). */
const isCatchAll = (url: string): boolean => url === '*' || url === '/*';

/** Parameter names do not make two patterns different (`/a/:id` and `/a/:name` are one path). */
const samePath = (url: string): string => url.replace(/:[A-Za-z0-9_]+/g, ':_');

/**
 * Every route's path with the methods registered on it, in one method-blind router, so a
 * request can be matched by path alone: the most specific pattern wins as Fastify ranks
 * them (static over parametric over wildcard), whatever the methods.
 */
export class RouteTable {
  private readonly paths = new Map<string, KnownPath>();
  /** Methods that have a catch-all route: the table never refuses them. */
  private readonly everywhere = new Set<string>();
  private router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> | undefined;

  constructor(private readonly options: RouterOptions = {}) {}

  add(methods: string | string[], url: string): void {
    for (const method of Array.isArray(methods) ? methods : [methods]) {
      if (isCatchAll(url)) {
        this.everywhere.add(method);
        continue;
      }
      const key = samePath(url);
      const known = this.paths.get(key) ?? { pattern: url, methods: new Set<string>() };
      known.methods.add(method);
      // GET routes answer HEAD too (Fastify's exposeHeadRoutes).
      if (method === 'GET') known.methods.add('HEAD');
      this.paths.set(key, known);
    }
    this.router = undefined;
  }

  /**
   * The methods a path is known under when `method` is not one of them, or undefined
   * (the method is allowed there, or the path is no route at all).
   */
  disallowed(method: string, path: string): string[] | undefined {
    if (this.everywhere.has(method)) return undefined;
    const found = this.build().find('GET', path);
    const known = found?.store as KnownPath | undefined;
    if (known === undefined || known.methods.has(method)) return undefined;
    return [...known.methods].sort();
  }

  private build(): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
    if (this.router) return this.router;
    const router = FindMyWay<FindMyWay.HTTPVersion.V1>(this.options);
    for (const known of this.paths.values()) {
      // A pattern find-my-way refuses alone (it would refuse it in Fastify too) only loses its 405s.
      try {
        router.on('GET', known.pattern, () => undefined, known);
      } catch {
        continue;
      }
    }
    this.router = router;
    return router;
  }
}

/** Whether a matched route pattern has no parameter or wildcard: no other pattern can be more specific. */
const isStatic = (url: string): boolean => !url.includes(':') && !url.includes('*');

/**
 * A known path asked with a method it does not take answers `405` with `Allow`, instead of
 * Fastify's 404 or, worse, another route's parametric match (`GET /services/register`
 * would otherwise be `GET /services/:id` looking up a service called "register").
 */
export function installMethodNotAllowed(fastify: FastifyInstance): void {
  // The table matches paths as Fastify's own router does.
  const { caseSensitive, ignoreTrailingSlash, ignoreDuplicateSlashes, maxParamLength } = {
    ...fastify.initialConfig,
    ...fastify.initialConfig.routerOptions,
  };
  const table = new RouteTable({ caseSensitive, ignoreTrailingSlash, ignoreDuplicateSlashes, maxParamLength });
  fastify.addHook('onRoute', (route) => table.add(route.method, route.url));
  fastify.addHook('onRequest', (request, reply, done) => {
    const matched = request.is404 ? undefined : request.routeOptions.url;
    const allowed = matched !== undefined && isStatic(matched) ? undefined : table.disallowed(request.method, request.url);
    if (allowed === undefined) {
      done();
      return;
    }
    const list = allowed.join(', ');
    void reply
      .code(405)
      .header('allow', list)
      .send({ detail: `Method ${request.method} is not allowed on this path; allowed: ${list}` });
  });
}
