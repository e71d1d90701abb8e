/**
 * Which apps the single process runs (BEACON_APPS) and the environment each one gets: the
 * process's own, plus that app's overrides from BEACON_APP_ENV, a JSON object
 * `{ "<app>": { "<VAR>": "<value>" } }`. The launcher puts there what differs per app
 * (port, listen address, NATS identity: NATS_USER and NATS_PASSWORD_FILE, a path, so no
 * password is in the environment, the logs or the command line).
 */

/** Every app, in start order: registry-api first (the others read and write through it). */
export const APP_NAMES = [
  'registry-api',
  'ttl-reaper',
  'health-prober',
  'mdns-announcer',
  'realtime-gateway',
  'node-role-elector',
] as const;

export type AppName = (typeof APP_NAMES)[number];

/**
 * Stop order, stage by stage: realtime-gateway first so its WebSocket clients get their
 * 1001 and SSE streams end while the rest still runs; registry-api (the store) last.
 */
export const STOP_STAGES: readonly (readonly AppName[])[] = [
  ['realtime-gateway'],
  ['ttl-reaper', 'health-prober', 'mdns-announcer', 'node-role-elector'],
  ['registry-api'],
];

export const APPS_VARIABLE = 'BEACON_APPS';
export const APP_ENV_VARIABLE = 'BEACON_APP_ENV';

/** A setting of the single process itself that cannot be used; its message names the variable. */
export class SelectionError extends Error {
  override name = 'SelectionError';
}

const isAppName = (name: string): name is AppName => (APP_NAMES as readonly string[]).includes(name);

/** BEACON_APPS: `all` (or unset), else a comma-separated list of app names, run in start order. */
export function selectApps(raw: string | undefined): AppName[] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'all') return [...APP_NAMES];
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const unknown = names.filter((name) => !isAppName(name));
  if (unknown.length > 0) {
    throw new SelectionError(
      `${APPS_VARIABLE}: unknown app${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}; ` +
        `use "all" or a comma-separated list of ${APP_NAMES.join(', ')}`,
    );
  }
  if (names.length === 0)
    throw new SelectionError(`${APPS_VARIABLE} names no app: use "all" or a comma-separated list of ${APP_NAMES.join(', ')}`);
  return APP_NAMES.filter((name) => names.includes(name));
}

export type AppOverrides = Partial<Record<AppName, Record<string, string>>>;

/** BEACON_APP_ENV, checked: an object of app names, each an object of string values. */
export function parseOverrides(raw: string | undefined): AppOverrides {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not the value: it may hold something private.
    throw new SelectionError(`${APP_ENV_VARIABLE} is not valid JSON: it must be {"<app>": {"<VARIABLE>": "<value>"}}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SelectionError(`${APP_ENV_VARIABLE} must be a JSON object {"<app>": {"<VARIABLE>": "<value>"}}`);
  }
  const overrides: AppOverrides = {};
  for (const [app, variables] of Object.entries(parsed)) {
    if (!isAppName(app)) throw new SelectionError(`${APP_ENV_VARIABLE}: unknown app "${app}" (apps: ${APP_NAMES.join(', ')})`);
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
      throw new SelectionError(`${APP_ENV_VARIABLE}: "${app}" must map variable names to strings`);
    }
    const entries = Object.entries(variables as Record<string, unknown>);
    const bad = entries.find(([, value]) => typeof value !== 'string');
    if (bad) throw new SelectionError(`${APP_ENV_VARIABLE}: ${app}'s ${bad[0]} must be a string`);
    overrides[app] = Object.fromEntries(entries) as Record<string, string>;
  }
  return overrides;
}

/** The environment `app` starts with: the process's, minus the two selection variables, plus its overrides. */
export function appEnv(common: NodeJS.ProcessEnv, overrides: AppOverrides, app: AppName): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...common, ...overrides[app] };
  delete env[APP_ENV_VARIABLE];
  delete env[APPS_VARIABLE];
  return env;
}
