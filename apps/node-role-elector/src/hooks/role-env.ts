import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { serverUrl, type RoleDecision } from '../election/decision';

/**
 * The variables a role change hands to the hook and writes to the env file. An agent
 * that does not know its server yet (just stepped down) gets empty server variables:
 * the hook must stop server duties and wait for the next change.
 */
export function roleVariables(nodeId: string, decision: RoleDecision): Record<string, string> {
  const server = decision.server;
  return {
    BEACON_ROLE: decision.role,
    BEACON_SERVER_HOST: server?.host ?? '',
    BEACON_SERVER_PORT: server ? String(server.port) : '',
    BEACON_SERVER_URL: server ? serverUrl(server) : '',
    BEACON_SERVER_NODE_ID: server?.node_id ?? '',
    BEACON_NODE_ID: nodeId,
    BEACON_FENCING_TOKEN: decision.fencingToken === null ? '' : String(decision.fencingToken),
  };
}

const PLAIN = /^[A-Za-z0-9_./:@%+,-]*$/;

/**
 * A value as both `docker compose` env files and POSIX `sh` (`. file`) read it: plain
 * when it has no special characters, else single-quoted (a quote inside becomes '\'').
 */
export function quoteEnvValue(value: string): string {
  if (PLAIN.test(value)) return value;
  if (/[\n\r\0]/.test(value)) throw new RangeError('env file values cannot contain line breaks or NUL');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function envFileContent(variables: Record<string, string>): string {
  const lines = ['# written by node-role-elector on every role change; do not edit'];
  for (const [name, value] of Object.entries(variables)) lines.push(`${name}=${quoteEnvValue(value)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Replaces `path` in one step: readers see the old file or the new one, never half of
 * it. The temporary file sits beside the target so the rename stays on one filesystem.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'w', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync(); // a crash right after the rename must not leave an empty file
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
