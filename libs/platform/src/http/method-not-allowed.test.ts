import { describe, expect, it } from 'vitest';
import { RouteTable } from './method-not-allowed';

/** registry-api's routes, plus a route another app adds later with other parameter names. */
function registryTable(): RouteTable {
  const table = new RouteTable();
  const S = '/api/v1/services';
  const routes: [string, string][] = [
    ['POST', `${S}/register`],
    ['PUT', `${S}/:id/heartbeat`],
    ['GET', S],
    ['GET', `${S}/discover`],
    ['POST', `${S}/discover`],
    ['GET', `${S}/expired`],
    ['DELETE', `${S}/cleanup`],
    ['GET', `${S}/:id`],
    ['HEAD', `${S}/:id`],
    ['PUT', `${S}/:id`],
    ['DELETE', `${S}/:id`],
    ['POST', `${S}/:id/health-check`],
    ['GET', '/v1/discovery/:name/:id'],
    ['DELETE', '/v1/discovery/unregister/:name/:instance'],
    ['GET', '/health'],
  ];
  for (const [method, url] of routes) table.add(method, url);
  table.add(['OPTIONS'], '*');
  return table;
}

describe('RouteTable', () => {
  const table = registryTable();

  it("a static path registered for other methods wins over this method's parametric match", () => {
    expect(table.disallowed('GET', '/api/v1/services/register')).toEqual(['POST']);
    expect(table.disallowed('PUT', '/api/v1/services/discover')).toEqual(['GET', 'HEAD', 'POST']);
    expect(table.disallowed('GET', '/api/v1/services/cleanup')).toEqual(['DELETE']);
  });

  it('a parametric path asked with a method it does not take', () => {
    expect(table.disallowed('PATCH', '/api/v1/services/abc')).toEqual(['DELETE', 'GET', 'HEAD', 'PUT']);
    expect(table.disallowed('GET', '/api/v1/services/abc/heartbeat?ttl=30')).toEqual(['PUT']);
    expect(table.disallowed('POST', '/v1/discovery/unregister/web/1')).toEqual(['DELETE']);
  });

  it('allows what is registered, HEAD where GET is, and what a catch-all takes', () => {
    expect(table.disallowed('GET', '/api/v1/services/abc')).toBeUndefined();
    expect(table.disallowed('HEAD', '/api/v1/services')).toBeUndefined();
    expect(table.disallowed('PUT', '/api/v1/services/abc/heartbeat')).toBeUndefined();
    expect(table.disallowed('OPTIONS', '/api/v1/services/register')).toBeUndefined();
    expect(table.disallowed('POST', '/api/v1/services/discover?limit=5')).toBeUndefined();
  });

  it('leaves unknown paths to the 404', () => {
    expect(table.disallowed('GET', '/api/v1/nope')).toBeUndefined();
    expect(table.disallowed('POST', '/')).toBeUndefined();
    expect(table.disallowed('GET', '/api/v1/services/abc/heartbeat/extra')).toBeUndefined();
  });

  it('treats patterns that differ only in parameter names as one path', () => {
    const named = new RouteTable();
    named.add('GET', '/things/:id');
    named.add('DELETE', '/things/:name');
    expect(named.disallowed('PUT', '/things/1')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(named.disallowed('DELETE', '/things/1')).toBeUndefined();
  });

  it('learns routes added after it answered', () => {
    const grown = registryTable();
    expect(grown.disallowed('GET', '/api/v1/stats')).toBeUndefined();
    grown.add('POST', '/api/v1/stats');
    expect(grown.disallowed('GET', '/api/v1/stats')).toEqual(['POST']);
  });
});
