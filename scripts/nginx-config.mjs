// nginx's own config for running deploy/nginx/beacon.conf outside a container: used by the
// launcher (scripts/start.mjs) and by the gateway's test, so the test runs what users run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SITE = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'nginx', 'beacon.conf');
const LISTEN = /^(\s*)listen 8097;$/m;
const ACCESS_LOG = /^(\s*)access_log \/var\/log\/nginx\/access\.log beacon_redacted;$/m;

/**
 * Writes `dir/nginx.conf`: everything under `dir` (pid, temp files), errors to stderr, the
 * upstreams at local ports, and beacon.conf itself with only its listen port and access log changed.
 * Run it with `nginx -p <dir> -c <path> -e stderr`.
 * @param {{ dir: string, port: number, registryPort: number, gatewayPort: number, accessLogPort?: number }} options
 * @returns {string} the path of nginx.conf
 */
export function writeLocalNginxConfig({ dir, port, registryPort, gatewayPort, accessLogPort }) {
  mkdirSync(dir, { recursive: true });
  const site = readFileSync(SITE, 'utf8');
  if ((site.match(new RegExp(LISTEN.source, 'gm')) ?? []).length !== 1) {
    throw new Error('deploy/nginx/beacon.conf must have exactly one "listen 8097;" line');
  }
  if (!ACCESS_LOG.test(site))
    throw new Error('deploy/nginx/beacon.conf must have its "access_log /var/log/nginx/access.log beacon_redacted;" line');
  // Its access log (tokens redacted) as syslog datagrams to a UDP port on loopback, where
  // the launcher prints them: nginx cannot open /dev/stdout when it is a socket, as the
  // launcher's pipes are. Without a port, none.
  const accessLogLine = accessLogPort
    ? `$1access_log syslog:server=127.0.0.1:${accessLogPort},tag=nginx,nohostname beacon_redacted;`
    : '$1access_log off;';
  writeFileSync(join(dir, 'beacon.conf'), site.replace(LISTEN, `$1listen ${port};`).replace(ACCESS_LOG, accessLogLine));
  // Started by root, nginx's workers would switch to an unprivileged user that may not reach
  // `dir` (temp files of large responses go there): they run as the caller, like the apps.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const config = `# Written by scripts/nginx-config.mjs on every start; edit deploy/nginx/beacon.conf instead.
${user}daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
    client_body_temp_path ${join(dir, 'client_body')};
    proxy_temp_path ${join(dir, 'proxy')};
    fastcgi_temp_path ${join(dir, 'fastcgi')};
    uwsgi_temp_path ${join(dir, 'uwsgi')};
    scgi_temp_path ${join(dir, 'scgi')};
    upstream beacon_registry { server 127.0.0.1:${registryPort}; keepalive 16; }
    upstream beacon_gateway { server 127.0.0.1:${gatewayPort}; keepalive 16; }
    include ${join(dir, 'beacon.conf')};
}
`;
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, config);
  return path;
}
