export interface LocalNginxOptions {
  /** Directory for nginx.conf, the adapted beacon.conf, the pid and temp files. */
  dir: string;
  /** The port nginx listens on (instead of beacon.conf's 8097). */
  port: number;
  registryPort: number;
  gatewayPort: number;
  /** Send the access log (tokens redacted) as syslog datagrams to this UDP port on 127.0.0.1; none without it. */
  accessLogPort?: number;
}

/** Writes `dir/nginx.conf` for deploy/nginx/beacon.conf at local ports; returns its path. */
export function writeLocalNginxConfig(options: LocalNginxOptions): string;
