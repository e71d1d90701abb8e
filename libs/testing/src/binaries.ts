import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * A tool's path: from PATH, else where Debian and hand installs put it (nginx and
 * nats-server live in /usr/sbin, which a non-root PATH may lack). Null when not installed.
 */
export function findBinary(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}
