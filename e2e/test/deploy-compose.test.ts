import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NATS_IDENTITIES, natsServerConfig, passwordVariable } from '@beacon/contracts';
import { REPO_ROOT, startNatsServer, freePort, waitFor } from '@beacon/testing';

/**
 * The container deployment: deploy/Dockerfile and docker-compose.yml. No container engine
 * runs here, so the real docker-compose validates and normalizes the file, the checks below
 * read that normalized form against the Dockerfile, and the production tree the Dockerfile
 * deploys for registry-api is started the way the image starts it.
 */

const APPS = ['registry-api', 'ttl-reaper', 'health-prober', 'mdns-announcer', 'realtime-gateway', 'node-role-elector'];
const DOCKERFILE = join(REPO_ROOT, 'deploy', 'Dockerfile');
const execFileAsync = promisify(execFile);

const hasCommand = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
const hasCompose = hasCommand('docker-compose');
const hasPnpm = hasCommand('pnpm');
/** Appended to the names of the tests that need docker-compose, when it is missing. */
const noCompose = hasCompose ? '' : ' [skipped: docker-compose is not installed; Debian: apt-get install docker-compose]';

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  instructions: Instruction[];
}
/** What a stage's image ends up with, its base stages included. */
interface ImageConfig {
  user?: string;
  workdir: string;
  env: Record<string, string>;
  expose: Set<string>;
  /** argv docker runs for the healthcheck (shell form: `sh -c`). */
  healthcheck?: string[];
  entrypoint: string[];
  cmd: string[];
  copies: { from?: string; sources: string[]; destination: string }[];
}

function parseDockerfile(text: string): Map<string, Stage> {
  const stages = new Map<string, Stage>();
  let current: Stage | undefined;
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, base = '', name = `stage-${stages.size}`] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      current = { base, instructions: [] };
      stages.set(name, current);
    } else {
      current?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** JSON (exec) form as is; shell form as docker runs it. */
const argv = (args: string): string[] => (args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args]);

function imageConfig(stages: Map<string, Stage>, name: string): ImageConfig {
  const stage = stages.get(name);
  if (!stage) throw new Error(`deploy/Dockerfile has no stage ${name}`);
  const inherited = stages.has(stage.base) ? imageConfig(stages, stage.base) : undefined;
  const config: ImageConfig = inherited
    ? { ...inherited, env: { ...inherited.env }, expose: new Set(inherited.expose), copies: [...inherited.copies] }
    : { workdir: '/', env: {}, expose: new Set(), entrypoint: [], cmd: [], copies: [] };
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'USER') config.user = args;
    if (keyword === 'WORKDIR') config.workdir = resolve(config.workdir, args);
    if (keyword === 'ENV') for (const [, key = '', value = ''] of args.matchAll(/(\w+)=(\S+)/g)) config.env[key] = value;
    if (keyword === 'EXPOSE') for (const port of args.split(/\s+/)) config.expose.add(port.includes('/') ? port : `${port}/tcp`);
    if (keyword === 'ENTRYPOINT') config.entrypoint = argv(args);
    if (keyword === 'CMD') config.cmd = argv(args);
    if (keyword === 'HEALTHCHECK') {
      const command = /(?:^|\s)CMD\s+(.*)$/.exec(args)?.[1];
      config.healthcheck = command === undefined ? undefined : argv(command);
    }
    if (keyword === 'COPY') {
      const from = /--from=(\S+)/.exec(args)?.[1];
      const paths = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      config.copies.push({ from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' });
    }
  }
  return config;
}

/** The variable that carries an app's port: the one its HEALTHCHECK reads. */
const portVariable = (image: ImageConfig): string | undefined => /process\.env\.(\w+)/.exec(image.healthcheck?.join(' ') ?? '')?.[1];

// ---------------------------------------------------------------- compose

type PortEntry = string | { target: number; published?: number | string; host_ip?: string };
type VolumeEntry = string | { type: string; source?: string; target: string };
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  network_mode?: string;
  ports?: PortEntry[];
  environment?: Record<string, string | null>;
  volumes?: VolumeEntry[];
  entrypoint?: string[];
  secrets?: (string | { source: string; target?: string })[];
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

/** The secrets mounted into a service, as source name and the path it appears at. */
const secretsOf = (service: ComposeService): { source: string; path: string }[] =>
  (service.secrets ?? []).map((entry) => {
    const { source, target } = typeof entry === 'string' ? { source: entry, target: undefined } : entry;
    return { source, path: target?.startsWith('/') ? target : `/run/secrets/${target ?? source}` };
  });

/** NATS auth in compose: the server gets every identity's password, each app only its own, as its own user. */
function natsAuthProblems(compose: ComposeConfig): string[] {
  const problems: string[] = [];
  const nats = compose.services.nats ?? {};
  const natsSecrets = secretsOf(nats).map((secret) => secret.source);
  for (const identity of NATS_IDENTITIES) {
    if (!natsSecrets.includes(`nats-${identity}`)) problems.push(`nats: lacks the secret nats-${identity}`);
    const file = compose.secrets?.[`nats-${identity}`]?.file;
    if (file !== join(REPO_ROOT, 'deploy', 'nats', 'secrets', identity)) problems.push(`secret nats-${identity}: file ${file}`);
  }
  const mounted = bindSources(nats).map((source) => resolve(REPO_ROOT, source));
  if (!mounted.includes(join(REPO_ROOT, 'deploy', 'nats', 'nats.conf'))) problems.push('nats: deploy/nats/nats.conf is not mounted');
  if (nats.entrypoint?.join(' ') !== '/bin/sh /etc/nats/entrypoint.sh')
    problems.push(`nats: entrypoint ${JSON.stringify(nats.entrypoint)}`);
  for (const app of APPS) {
    const service = compose.services[app] ?? {};
    const env = service.environment ?? {};
    if (env.NATS_USER !== app) problems.push(`${app}: NATS_USER is ${env.NATS_USER}, not its own identity`);
    const secrets = secretsOf(service).filter((secret) => secret.source.startsWith('nats-'));
    if (secrets.length !== 1 || secrets[0]?.source !== `nats-${app}` || secrets[0]?.path !== env.NATS_PASSWORD_FILE) {
      problems.push(`${app}: NATS_PASSWORD_FILE ${env.NATS_PASSWORD_FILE} is not its own secret nats-${app} (${JSON.stringify(secrets)})`);
    }
  }
  return problems;
}

/** `docker-compose config`: the file validated, with variables, anchors and defaults resolved. */
async function composeConfig(directory: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: directory,
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** `[host_ip:]published:target[/proto]` or the long form, as container port and published port. */
function ports(service: ComposeService): { target: number; published?: number }[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry !== 'string')
      return { target: Number(entry.target), published: entry.published === undefined ? undefined : Number(entry.published) };
    const parts = entry.replace(/\/\w+$/, '').split(':');
    const published = parts.at(-2);
    return { target: Number(parts.at(-1)), published: published === undefined ? undefined : Number(published) };
  });
}

/** Host paths bind-mounted into a service (named volumes left out). */
function bindSources(service: ComposeService): string[] {
  return (service.volumes ?? []).flatMap((entry) => {
    const source = typeof entry === 'string' ? entry.split(':')[0] : entry.type === 'bind' ? entry.source : undefined;
    return source !== undefined && (source.startsWith('/') || source.startsWith('.')) ? [source] : [];
  });
}

const hasHealthcheck = (service: ComposeService | undefined, stages: Map<string, Stage>): boolean => {
  if (!service || service.healthcheck?.disable) return false;
  if (service.healthcheck?.test !== undefined) return [service.healthcheck.test].flat()[0] !== 'NONE';
  const target = service.build?.target;
  return target !== undefined && stages.has(target) && imageConfig(stages, target).healthcheck !== undefined;
};

/** Every inconsistency between docker-compose.yml (normalized) and deploy/Dockerfile. */
function stackProblems(compose: ComposeConfig, stages: Map<string, Stage>): string[] {
  const problems: string[] = [];
  const services = compose.services;
  const nats = services.nats;
  const natsPublished = new Set(
    ports(nats ?? {})
      .filter((port) => port.target === 4222)
      .map((port) => port.published),
  );

  for (const app of APPS) {
    const service = services[app];
    if (!service) {
      problems.push(`no service ${app}`);
      continue;
    }
    if (service.image !== `beacon/${app}`) problems.push(`${app}: image ${service.image}, not beacon/${app}`);
    const build = service.build;
    if (!build || resolve(build.context, build.dockerfile ?? 'Dockerfile') !== DOCKERFILE || build.target !== app) {
      problems.push(`${app}: not built from deploy/Dockerfile target ${app}: ${JSON.stringify(build)}`);
    }
    if (!stages.has(app)) continue;
    const image = imageConfig(stages, app);
    const variable = portVariable(image);
    const port = Number(variable === undefined ? NaN : image.env[variable]);
    if (!image.expose.has(`${port}/tcp`))
      problems.push(`${app}: its healthcheck's port ${variable}=${port} is not in EXPOSE ${[...image.expose].join(' ')}`);
    const override = service.environment?.[variable ?? ''];
    if (override !== undefined && Number(override) !== port)
      problems.push(`${app}: compose sets ${variable}=${override}, the image exposes ${port}`);
    for (const { target } of ports(service)) {
      if (!image.expose.has(`${target}/tcp`))
        problems.push(`${app}: compose publishes container port ${target}, the image exposes ${[...image.expose].join(' ')}`);
    }
    if (service.depends_on?.nats?.condition !== 'service_healthy') problems.push(`${app}: does not wait for a healthy nats`);

    const natsUrl = new URL(service.environment?.NATS_URL ?? 'nats://missing');
    if (service.network_mode === 'host') {
      if (service.ports?.length) problems.push(`${app}: uses the host's network yet publishes ${JSON.stringify(service.ports)}`);
      if (natsUrl.hostname !== '127.0.0.1' || !natsPublished.has(Number(natsUrl.port))) {
        problems.push(`${app}: on the host's network, NATS_URL ${natsUrl.href} is not a port nats publishes on the host`);
      }
    } else if (natsUrl.hostname !== 'nats' || natsUrl.port !== '4222') {
      problems.push(`${app}: NATS_URL ${natsUrl.href} is not the nats service`);
    }
  }

  for (const [name, service] of Object.entries(services)) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      if (condition === 'service_healthy' && !hasHealthcheck(services[dependency], stages)) {
        problems.push(`${name} waits for ${dependency} to be healthy, which has no healthcheck`);
      }
    }
    for (const source of bindSources(service)) {
      const path = resolve(REPO_ROOT, source);
      if (relative(REPO_ROOT, path).startsWith('..')) problems.push(`${name}: mounts ${source}, outside the repository`);
      else if (!existsSync(path) || !statSync(path).isFile())
        problems.push(`${name}: mounts ${source}, which is not a file in the repository`);
    }
  }
  return problems;
}

/** Ports other configs reach the apps on: nginx's compose upstreams and Prometheus's scrape targets. */
function peerPortProblems(stages: Map<string, Stage>): string[] {
  const exposed = (service: string, port: number): boolean => stages.has(service) && imageConfig(stages, service).expose.has(`${port}/tcp`);
  const problems: string[] = [];
  const upstreams = readFileSync(join(REPO_ROOT, 'deploy', 'nginx', 'upstreams.compose.conf'), 'utf8');
  for (const [, host = '', port = ''] of upstreams.matchAll(/^\s*server\s+([\w-]+):(\d+)/gm)) {
    if (!exposed(host, Number(port))) problems.push(`nginx upstream ${host}:${port} is not a port its image exposes`);
  }
  interface Scrape {
    job_name: string;
    dns_sd_configs?: { names: string[]; port: number }[];
    static_configs?: { targets: string[] }[];
  }
  const prometheus = parse(readFileSync(join(REPO_ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as {
    scrape_configs?: Scrape[];
  };
  for (const job of prometheus.scrape_configs ?? []) {
    if (!APPS.includes(job.job_name)) continue;
    const targets = [
      ...(job.dns_sd_configs ?? []).map((config) => config.port),
      ...(job.static_configs ?? []).flatMap((config) => config.targets.map((target) => Number(target.split(':').at(-1)))),
    ];
    for (const port of targets)
      if (!exposed(job.job_name, port)) problems.push(`prometheus scrapes ${job.job_name} on ${port}, which its image does not expose`);
  }
  return problems;
}

// ---------------------------------------------------------------- the tests

describe('container deployment (deploy/Dockerfile, docker-compose.yml)', () => {
  const dockerfile = readFileSync(DOCKERFILE, 'utf8');
  const stages = parseDockerfile(dockerfile);
  /** The build stage's `pnpm deploy` loop, which makes each app's production tree. */
  const deployRun = stages.get('build')?.instructions.find((step) => step.keyword === 'RUN' && / deploy /.test(step.args))?.args ?? '';

  it.skipIf(!hasCompose)(`docker-compose accepts docker-compose.yml and refuses it with a broken depends_on${noCompose}`, async () => {
    const accepted = await composeConfig(REPO_ROOT);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);

    // Negative control: the same file with one condition compose does not know.
    const broken = mkdtempSync(join(tmpdir(), 'beacon-compose-'));
    try {
      const text = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
      expect(text).toContain('condition: service_healthy');
      writeFileSync(join(broken, 'docker-compose.yml'), text.replace('condition: service_healthy', 'condition: service_ready'));
      const refused = await composeConfig(broken);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/condition.*service_ready/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('runs NATS with auth on: deploy/nats/nats.conf is the permissions declaration rendered, and make-secrets.sh makes every password', () => {
    const rendered = natsServerConfig({
      serverName: 'beacon-nats',
      listen: '0.0.0.0:4222',
      httpPort: 8222,
      storeDir: '/data',
      password: (identity) => ({ variable: passwordVariable(identity) }),
    });
    expect(readFileSync(join(REPO_ROOT, 'deploy', 'nats', 'nats.conf'), 'utf8'), 'stale: run node scripts/nats-deploy-config.mjs').toBe(
      rendered,
    );
    expect(rendered).toContain('authorization {');
    for (const identity of NATS_IDENTITIES) expect(rendered).toContain(`password: $${passwordVariable(identity)}`);
    const script = readFileSync(join(REPO_ROOT, 'deploy', 'nats', 'make-secrets.sh'), 'utf8');
    expect(/for identity in ([\w -]+); do/.exec(script)?.[1]?.split(' ').sort()).toEqual([...NATS_IDENTITIES].sort());
  });

  it('has a runtime stage per app that runs the app as a non-root user with a healthcheck', () => {
    for (const app of APPS) {
      expect(deployRun.split(/[\s;]+/), `the deploy loop makes ${app}'s tree`).toContain(app);
      const image = imageConfig(stages, app);
      expect(image.user, app).toBeDefined();
      expect(['root', '0'], app).not.toContain(image.user?.split(':')[0]);
      expect(image.healthcheck, app).toBeDefined();
      expect(image.cmd, app).toEqual(['node', `apps/${app}/dist/main.js`]);
      expect(image.copies, app).toContainEqual({
        from: 'build',
        sources: [`/deploy/${app}`],
        destination: join(image.workdir, 'apps', app),
      });
    }
  });

  it("exposes each app's default port, the one its healthcheck reads", () => {
    for (const app of APPS) {
      const image = imageConfig(stages, app);
      const variable = portVariable(image);
      expect(variable, `${app}: HEALTHCHECK reads no process.env port`).toBeDefined();
      const help = execFileSync(process.execPath, [join(REPO_ROOT, 'apps', app, 'dist', 'main.js'), '--help'], { encoding: 'utf8' });
      const defaultPort = new RegExp(`^${variable} \\(default (\\d+)\\)`, 'm').exec(help)?.[1];
      expect(image.env[variable ?? ''], app).toBe(defaultPort);
      expect([...image.expose], app).toContain(`${defaultPort}/tcp`);
    }
    expect(peerPortProblems(stages)).toEqual([]);
  });

  it.skipIf(!hasCompose)(
    `wires the stack consistently: targets, healthchecks, start order, ports, networks, mounted files${noCompose}`,
    async () => {
      const compose = parse((await composeConfig(REPO_ROOT)).stdout) as ComposeConfig;
      expect(Object.keys(compose.services).sort()).toEqual([...APPS, 'gateway', 'mongodb', 'nats', 'prometheus'].sort());
      expect(stackProblems(compose, stages)).toEqual([]);
      expect(natsAuthProblems(compose)).toEqual([]);
      // registry-api trusts X-Forwarded-For from the gateway's fixed address and nothing wider:
      // any other container naming its own client would dodge the per-client rate limits.
      const gatewayAddress = (compose.services.gateway as { networks?: Record<string, { ipv4_address?: string }> }).networks?.default
        ?.ipv4_address;
      expect(gatewayAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const registryEnvironment = (compose.services['registry-api'] as { environment?: Record<string, string> }).environment;
      expect(registryEnvironment?.BEACON_TRUST_PROXY).toBe(gatewayAddress);
      // The files others write for the gateway and Prometheus are mounted, so they must exist.
      const mounted = Object.values(compose.services).flatMap(bindSources);
      for (const file of ['nginx/beacon.conf', 'nginx/upstreams.compose.conf', 'prometheus/prometheus.yml', 'prometheus/alerts.yml']) {
        expect(mounted).toContain(join(REPO_ROOT, 'deploy', file));
      }
    },
  );

  it.skipIf(!hasCompose)(`those checks catch a broken stack${noCompose}`, async () => {
    const normalized = parse((await composeConfig(REPO_ROOT)).stdout) as ComposeConfig;
    const mutations: [string, (compose: ComposeConfig) => void, RegExp][] = [
      [
        'host network with ports',
        (c) => void (c.services['mdns-announcer'] = { ...c.services['mdns-announcer'], ports: ['9103:9103'] }),
        /mdns-announcer: uses the host's network/,
      ],
      ['no nats healthcheck', (c) => void delete c.services.nats?.healthcheck, /waits for nats to be healthy/],
      [
        'wrong target',
        (c) =>
          void (c.services['ttl-reaper'] = {
            ...c.services['ttl-reaper'],
            build: { context: REPO_ROOT, dockerfile: 'deploy/Dockerfile', target: 'health-prober' },
          }),
        /ttl-reaper: not built/,
      ],
      [
        'missing mounted file',
        (c) => void c.services.gateway?.volumes?.push(`${REPO_ROOT}/deploy/nginx/missing.conf:/etc/nginx/x.conf:ro`),
        /missing\.conf/,
      ],
      [
        'NATS port not published',
        (c) => void (c.services.nats = { ...c.services.nats, ports: ['127.0.0.1:4223:4222/tcp'] }),
        /node-role-elector: on the host's network, NATS_URL/,
      ],
      [
        'unexposed port',
        (c) => void (c.services['realtime-gateway'] = { ...c.services['realtime-gateway'], ports: ['8099:8099'] }),
        /publishes container port 8099/,
      ],
    ];
    for (const [what, mutate, problem] of mutations) {
      const compose = structuredClone(normalized);
      mutate(compose);
      expect(stackProblems(compose, stages).join('\n'), what).toMatch(problem);
    }
    const authMutations: [string, (compose: ComposeConfig) => void, RegExp][] = [
      [
        'another identity',
        (c) =>
          void (c.services['ttl-reaper'] = {
            ...c.services['ttl-reaper'],
            secrets: [{ source: 'nats-registry-api', target: 'nats-password' }],
          }),
        /ttl-reaper: NATS_PASSWORD_FILE/,
      ],
      [
        'wrong user',
        (c) =>
          void (c.services['health-prober'] = {
            ...c.services['health-prober'],
            environment: { ...c.services['health-prober']?.environment, NATS_USER: 'registry-api' },
          }),
        /health-prober: NATS_USER is registry-api/,
      ],
      [
        'server without a password',
        (c) => void (c.services.nats = { ...c.services.nats, secrets: [] }),
        /nats: lacks the secret nats-beacon-reader/,
      ],
    ];
    for (const [what, mutate, problem] of authMutations) {
      const compose = structuredClone(normalized);
      mutate(compose);
      expect(natsAuthProblems(compose).join('\n'), what).toMatch(problem);
    }
    const asRoot = parseDockerfile(dockerfile.replace(/^USER .*$/m, 'USER root'));
    expect(asRoot.get('runtime')?.instructions).toContainEqual({ keyword: 'USER', args: 'root' });
    expect(imageConfig(asRoot, 'registry-api').user).toBe('root');
  });

  it.skipIf(!hasPnpm)(
    `runs registry-api from the tree the Dockerfile deploys, as the image starts it, and its HEALTHCHECK tells up from down${hasPnpm ? '' : ' [skipped: pnpm is not installed]'}`,
    async () => {
      const image = imageConfig(stages, 'registry-api');
      // The Dockerfile's own deploy command, for this one app, into a directory laid out like the image.
      const [, flags = ''] = /pnpm --filter "@beacon\/\$app" deploy (.*?) "\/deploy\/\$app"/.exec(deployRun) ?? [];
      expect(flags).toContain('--prod');
      const root = mkdtempSync(join(tmpdir(), 'beacon-image-'));
      const inImage = (path: string): string => join(root, path);
      const nats = await startNatsServer();
      try {
        const copy = image.copies.find((step) => step.from === 'build');
        expect(copy?.sources).toEqual(['/deploy/registry-api']);
        const tree = inImage(copy?.destination ?? '/missing');
        mkdirSync(dirname(tree), { recursive: true });
        await execFileAsync('pnpm', ['--filter', '@beacon/registry-api', 'deploy', ...flags.split(/\s+/), tree], {
          cwd: REPO_ROOT,
          timeout: 110_000,
        });
        expectSelfContained(root);

        const port = await freePort();
        const variable = portVariable(image) ?? 'BEACON_PORT';
        mkdirSync(inImage('/data'));
        const path = `${dirname(process.execPath)}:/usr/bin:/bin`;
        // tini when this machine has it (it does not run as PID 1 here, hence the subreaper flag).
        const command = [...(existsSync(image.entrypoint[0] ?? '') ? image.entrypoint : []), ...image.cmd];
        const child = spawn(command[0] ?? 'node', command.slice(1), {
          cwd: inImage(image.workdir),
          env: {
            ...image.env,
            PATH: path,
            HOME: root,
            TINI_SUBREAPER: '1',
            LOG_LEVEL: 'warn',
            NATS_URL: nats.url,
            BEACON_SQLITE_PATH: inImage('/data/beacon.db'),
            [variable]: String(port),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

        const healthcheck = (): number | null => {
          const [file = '', ...args] = image.healthcheck ?? [];
          return spawnSync(file, args, { env: { PATH: path, [variable]: String(port) }, timeout: 5_000 }).status;
        };
        await waitFor(
          'registry-api from the deployed tree',
          async () => {
            if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
            return (await fetch(`http://127.0.0.1:${port}/ready`)).ok;
          },
          30_000,
        );
        expect(healthcheck()).toBe(0);
        child.kill('SIGTERM');
        expect(await exited, output).toBe(0);
        expect(healthcheck()).not.toBe(0);
      } finally {
        await nats.dispose();
        rmSync(root, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

/** No link in the tree leads out of it (back into the workspace, which the image lacks). */
function expectSelfContained(root: string): void {
  const realRoot = realpathSync(root);
  for (let dir = dirname(realRoot); dir !== dirname(dir); dir = dirname(dir)) {
    expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules would leak into resolution`).toBe(false);
  }
  const escaping: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) {
        const target = existsSync(path) ? realpathSync(path) : '(dangling)';
        if (!target.startsWith(realRoot + sep)) escaping.push(`${path} -> ${target}`);
      } else if (stat.isDirectory()) {
        walk(path);
      }
    }
  };
  walk(realRoot);
  expect(escaping).toEqual([]);
}
