import { Beacon, DEFAULT_URL } from '@beacon/client';
import type { Command } from 'commander';
import { CliError, usage } from './exit-codes';
import { findBeacon } from './mdns';
import { Output, wantsColor, type OutputMode } from './output';

/** The options every command has (set on the root, read through `optsWithGlobals`). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
  quiet?: boolean;
  color: boolean;
  mdnsTimeout?: string;
}

export interface Context {
  output: Output;
  /** Beacon's client; resolving the URL may ask mDNS, so it is made on first use. */
  client: () => Promise<Beacon>;
  /** The URL the client talks to, once `client()` resolved it. */
  url: () => string | undefined;
  options: GlobalOptions;
}

const env = (name: string): string | undefined => {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
};

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

/** `url` when it is an absolute URL of one of `protocols`, else a usage error naming `where`. */
export function checkedUrl(url: string, where: string, protocols: string[]): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !protocols.includes(parsed.protocol))
    throw usage(`${where} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}, not "${url}"`);
  return url;
}

/** `--url`, else BEACON_URL, checked; undefined when neither is set. */
export function givenUrl(options: GlobalOptions): string | undefined {
  const given = options.url ?? env('BEACON_URL');
  return given === undefined ? undefined : checkedUrl(given, '--url or BEACON_URL', ['http:', 'https:']);
}

/**
 * `--url`, else BEACON_URL, else localhost:8097 when it answers, else (with no token to give
 * away) the first Beacon that answers `_beacon._tcp` over mDNS (said on stderr), else
 * localhost:8097 (whose error is then shown).
 */
export async function resolveUrl(options: GlobalOptions, output: Output): Promise<string> {
  const given = givenUrl(options);
  if (given !== undefined) return given;
  if (await answers(DEFAULT_URL, 1_000)) return DEFAULT_URL;
  if ((options.token ?? env('BEACON_TOKEN')) !== undefined) {
    // Anyone on the LAN can answer mDNS first: the token would go to them.
    output.note(
      `nothing answers on ${DEFAULT_URL}; not looking over mDNS, as a token is only sent to a URL you give (--url or BEACON_URL)`,
    );
    return DEFAULT_URL;
  }
  const found = await findBeacon(Number(options.mdnsTimeout ?? 2_000));
  if (found === undefined) {
    output.note(`nothing answers on ${DEFAULT_URL} and no _beacon._tcp answered over mDNS`);
    return DEFAULT_URL;
  }
  output.note(`found Beacon at ${found.url} through mDNS (${found.instance})`);
  return found.url;
}

export function makeContext(command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  const mode: OutputMode = options.json ? 'json' : options.quiet ? 'quiet' : 'table';
  const output = new Output({
    mode,
    color: wantsColor(process.stdout, options.color),
    width: process.stdout.isTTY ? process.stdout.columns : undefined,
  });
  let client: Promise<Beacon> | undefined;
  let resolved: string | undefined;
  return {
    output,
    options,
    url: () => resolved,
    client: () => {
      client ??= resolveUrl(options, output).then((url) => {
        resolved = url;
        return new Beacon({ url, token: options.token ?? env('BEACON_TOKEN') });
      });
      return client;
    },
  };
}

/** A command's action with its context: positional arguments, then the command's own options. */
export function act<A extends unknown[]>(handler: (context: Context, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    // An empty id would change the request's path (`get ""` is GET /api/v1/services/, the list).
    if (args.slice(0, -1).some((arg) => arg === '')) throw usage(`${command.name()}: an empty argument is not an id or a name`);
    const context = makeContext(command);
    try {
      await handler(context, ...(args.slice(0, -1) as A));
    } catch (error) {
      // The commands read the API's answers as the contracts type them; a server that answers
      // 200 with another shape (another service on that port, a proxy's page) fails there.
      const url = context.url();
      if (!(error instanceof TypeError) || url === undefined) throw error;
      throw new CliError(`${url} answered with JSON that is not shaped like Beacon's answer (${error.message}): is that Beacon's URL?`);
    }
  };
}
