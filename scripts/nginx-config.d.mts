export interface LocalNginxOptions {
  /** Directory for nginx.conf, the adapted beacon.conf, the pid and temp files. */
  dir: string;
  /** The port nginx listens on (instead of beacon.conf's 8097). */
  port: number;
  registryPort: number;
  gatewayPort: number;
  /** Access log to stdout. */
  accessLog?: boolean;
}

/** Writes `dir/nginx.conf` for deploy/nginx/beacon.conf at local ports; returns its path. */
export function writeLocalNginxConfig(options: LocalNginxOptions): string;
