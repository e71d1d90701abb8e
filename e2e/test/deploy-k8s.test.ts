import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { NATS_IDENTITIES, natsPermissions, passwordVariable } from '@beacon/contracts';
import { ServiceMonitor, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { REPO_ROOT } from '@beacon/testing';

/**
 * k8s/ (kustomize): every manifest is checked against the Kubernetes OpenAPI schemas
 * (kubernetes-models, offline) and the prometheus-operator CRD schema, with unknown fields
 * rejected; then cross-checked against itself and against what the apps really read.
 * Rendering needs kubectl (its built-in kustomize); without it the files as written are
 * still validated and cross-checked.
 */

const K8S = join(REPO_ROOT, 'k8s');
const APPS = ['registry-api', 'ttl-reaper', 'health-prober', 'realtime-gateway', 'mdns-announcer', 'node-role-elector'] as const;
type App = (typeof APPS)[number];
const DAEMONS: readonly App[] = ['mdns-announcer', 'node-role-elector'];
const AUTOSCALED: readonly App[] = ['registry-api', 'health-prober', 'realtime-gateway'];
/** The variable each app takes its HTTP port from (/health, /ready, /metrics). */
const PORT_VARIABLE: Record<App, string> = {
  'registry-api': 'BEACON_PORT',
  'ttl-reaper': 'HTTP_PORT',
  'health-prober': 'HTTP_PORT',
  'realtime-gateway': 'HTTP_PORT',
  'mdns-announcer': 'HTTP_PORT',
  'node-role-elector': 'ELECTOR_PORT',
};

const KUBECTL_MISSING = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0;
const NO_KUBECTL = "kubectl is not installed (it comes from Google's apt repository), so kustomize output cannot be rendered";

// ---------------------------------------------------------------------------------------
// Schemas

interface Schema {
  apiVersion: string;
  kind: string;
  prototype: { validate(): void };
}

const SCHEMAS = new Map<string, Schema>(
  [
    Namespace,
    ConfigMap,
    Secret,
    Service,
    Deployment,
    DaemonSet,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    Ingress,
    ServiceMonitor,
    NetworkPolicy,
  ].map((schema): [string, Schema] => [`${schema.apiVersion}/${schema.kind}`, schema]),
);

/** What the validator did with one object's fields. */
class FieldUse {
  readonly read = new Set<string>();
  enumerated = false;
  readonly children = new Map<string, FieldUse>();
  constructor(readonly isArray: boolean) {}
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function watch(value: unknown, use: FieldUse): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => watch(item, child(use, String(index), item)));
  }
  if (!isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = watch(item, child(use, key, item));
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') use.read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
    has(target, key) {
      if (typeof key === 'string') use.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      use.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function child(parent: FieldUse, key: string, value: unknown): FieldUse {
  const use = new FieldUse(Array.isArray(value));
  parent.children.set(key, use);
  return use;
}

function unknownFields(use: FieldUse, path: string): string[] {
  const found: string[] = [];
  for (const [key, childUse] of use.children) {
    const childPath = use.isArray ? `${path}[${key}]` : `${path}.${key}`;
    if (!use.isArray && !use.enumerated && !use.read.has(key)) found.push(childPath);
    else found.push(...unknownFields(childUse, childPath));
  }
  return found;
}

/**
 * kustomize wraps long base64 values of Secret data over several lines, as the API server
 * allows (Go's base64 decoder skips line breaks); the schema's "byte" format does not.
 */
function asTheApiServerReadsIt(document: Record<string, unknown>): Record<string, unknown> {
  if (document.kind !== 'Secret' || !isRecord(document.data)) return document;
  const data = Object.fromEntries(
    Object.entries(document.data).map(([key, value]) => [key, typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value]),
  );
  return { ...document, data };
}

/**
 * Schema errors of one manifest, unknown fields included. The Kubernetes schemas (like the
 * API server without strict field validation) accept fields they do not define, so a typo
 * such as `readinesProbe` would pass and silently drop the probe. The compiled validators
 * read every field their schema defines and enumerate the keys of maps (labels, data), so
 * a field the validator never touched is one the schema does not know.
 */
function schemaErrors(document: unknown): string[] {
  if (!isRecord(document)) return ['not an object'];
  const where = `${String(document.kind)} ${isRecord(document.metadata) ? String(document.metadata.name) : '?'}`;
  const schema = SCHEMAS.get(`${String(document.apiVersion)}/${String(document.kind)}`);
  if (!schema) return [`${where}: no schema for ${String(document.apiVersion)} ${String(document.kind)} (add it to SCHEMAS)`];
  const root = new FieldUse(false);
  const watched = watch(asTheApiServerReadsIt(document), root);
  try {
    schema.prototype.validate.call(watched);
  } catch (error) {
    return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
  }
  return unknownFields(root, '').map((path) => `${where}: unknown field ${path}`);
}

// ---------------------------------------------------------------------------------------
// Manifests

interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
}

interface ManifestSet {
  documents: Manifest[];
}

function parseYaml(text: string, source: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${source}: ${document.errors.map(String).join('; ')}`);
      return document.toJS() as unknown;
    })
    .filter((value): value is Manifest => value !== null && value !== undefined);
}

const rendered = new Map<string, ManifestSet>();

function render(dir: string): ManifestSet {
  const cached = rendered.get(dir);
  if (cached) return cached;
  const text = execFileSync('kubectl', ['kustomize', join(K8S, dir)], { encoding: 'utf8' });
  const set = { documents: parseYaml(text, dir) };
  rendered.set(dir, set);
  return set;
}

/**
 * k8s/base/*.yaml as written, plus what kustomize would generate from config.env and the
 * ServiceMonitor component, for machines without kubectl.
 */
function filesAsWritten(): ManifestSet {
  const documents: Manifest[] = [];
  const base = join(K8S, 'base');
  for (const file of readdirSync(base).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')) {
    documents.push(...parseYaml(readFileSync(join(base, file), 'utf8'), file));
  }
  const monitor = join(K8S, 'components', 'service-monitor', 'service-monitor.yaml');
  documents.push(...parseYaml(readFileSync(monitor, 'utf8'), monitor));
  const data = Object.fromEntries(
    readFileSync(join(base, 'config.env'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  documents.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'beacon-config' }, data } as Manifest);
  return { documents };
}

function ofKind<T>(set: ManifestSet, guard: (value: unknown) => value is T): T[] {
  const documents: unknown[] = set.documents;
  return documents.filter(guard);
}

function named<T extends { metadata?: { name?: string } }>(items: T[], name: string | undefined): T | undefined {
  return items.find((item) => item.metadata?.name === name);
}

interface Workload {
  kind: 'Deployment' | 'DaemonSet';
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  replicas: number | undefined;
  pod: IPodSpec;
}

function workloads(set: ManifestSet): Workload[] {
  const found: Workload[] = [];
  for (const manifest of [...ofKind(set, Deployment.is), ...ofKind(set, DaemonSet.is)]) {
    const template = manifest.spec?.template;
    if (!template?.spec) throw new Error(`${manifest.kind} ${manifest.metadata?.name}: no pod template`);
    found.push({
      kind: manifest.kind,
      name: manifest.metadata?.name ?? '',
      labels: template.metadata?.labels ?? {},
      annotations: template.metadata?.annotations ?? {},
      replicas: Deployment.is(manifest) ? manifest.spec?.replicas : undefined,
      pod: template.spec,
    });
  }
  return found;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function theContainer(workload: Workload): IContainer {
  expect(workload.pod.containers, `${workload.name}: one container`).toHaveLength(1);
  return workload.pod.containers[0] as IContainer;
}

function containerPort(container: IContainer, port: number | string | undefined): number | undefined {
  const declared = container.ports ?? [];
  const match = typeof port === 'number' ? declared.find((p) => p.containerPort === port) : declared.find((p) => p.name === port);
  return match?.containerPort;
}

// ---------------------------------------------------------------------------------------
// What the apps read (`--help`)

interface AppHelp {
  variables: Set<string>;
  defaults: Map<string, string>;
}

const helps = new Map<App, AppHelp>();

/** Runs every app's `--help` at once (each loads its whole app: ~0.5 s of CPU). */
beforeAll(async () => {
  const run = promisify(execFile);
  await Promise.all(
    APPS.map(async (app) => {
      const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'apps', app, 'dist', 'main.js'), '--help'], { encoding: 'utf8' });
      helps.set(app, parseHelp(stdout));
    }),
  );
});

/** Variables are the capitalized first word of each line; `(default …)` follows some. */
function parseHelp(text: string): AppHelp {
  const variables = new Set<string>();
  const defaults = new Map<string, string>();
  for (const match of text.matchAll(/^([A-Z][A-Z0-9_]+)(?: \[[^\]]*\])?(?: \(default ([^)]*)\))?/gm)) {
    const name = match[1] as string;
    variables.add(name);
    if (match[2] !== undefined) defaults.set(name, match[2].replace(/^"|"$/g, ''));
  }
  return { variables, defaults };
}

function help(app: App): AppHelp {
  const parsed = helps.get(app);
  if (!parsed) throw new Error(`no --help output for ${app}`);
  expect(parsed.variables.size, `${app} --help lists its variables`).toBeGreaterThan(10);
  return parsed;
}

/** A container's environment as the app sees it: explicit values, ConfigMap keys, references. */
interface Environment {
  values: Map<string, string>;
  /** name -> where it comes from, for those that are not literal values */
  references: Map<string, string>;
  problems: string[];
}

function environment(set: ManifestSet, container: IContainer): Environment {
  const values = new Map<string, string>();
  const references = new Map<string, string>();
  const problems: string[] = [];
  const configMaps = ofKind(set, ConfigMap.is);
  const secrets = ofKind(set, Secret.is);
  const secretKeys = (name: string | undefined): string[] | undefined => {
    const secret = named(secrets, name);
    return secret ? [...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})] : undefined;
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map = named(configMaps, source.configMapRef.name);
      if (!map) problems.push(`envFrom ConfigMap ${source.configMapRef.name} does not exist`);
      for (const [key, value] of Object.entries(map?.data ?? {})) values.set(key, value);
    }
    if (source.secretRef) {
      const keys = secretKeys(source.secretRef.name);
      if (!keys) problems.push(`envFrom Secret ${source.secretRef.name} does not exist`);
      for (const key of keys ?? []) references.set(key, `secret ${source.secretRef.name}`);
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      values.set(variable.name, variable.value);
      continue;
    }
    const from = variable.valueFrom;
    if (from?.secretKeyRef) {
      const { name, key } = from.secretKeyRef;
      if (!secretKeys(name)?.includes(key)) problems.push(`${variable.name}: Secret ${name} has no key ${key}`);
      references.set(variable.name, `secret ${name}/${key}`);
    } else if (from?.configMapKeyRef) {
      const { name, key } = from.configMapKeyRef;
      if (named(configMaps, name)?.data?.[key] === undefined) problems.push(`${variable.name}: ConfigMap ${name} has no key ${key}`);
      references.set(variable.name, `configmap ${name}/${key}`);
    } else if (from?.fieldRef) {
      references.set(variable.name, `field ${from.fieldRef.fieldPath}`);
    } else {
      problems.push(`${variable.name}: neither a value nor a supported reference`);
    }
  }
  return { values, references, problems };
}

/** The value an app ends up with: set in the manifest, else its default. */
function effective(app: App, env: Environment, name: string): string | undefined {
  return env.values.get(name) ?? help(app).defaults.get(name);
}

function appOf(workload: Workload): App {
  const app = APPS.find((name) => name === workload.name);
  if (!app) throw new Error(`${workload.kind} ${workload.name} is not one of Beacon's apps`);
  return app;
}

// ---------------------------------------------------------------------------------------
// Checks, run on each set of manifests

function crossChecks(load: () => ManifestSet): void {
  let cached: ManifestSet | undefined;
  const set = (): ManifestSet => (cached ??= load());

  it('every manifest matches its Kubernetes (or prometheus-operator CRD) schema, with no unknown fields', () => {
    expect(set().documents.length).toBeGreaterThan(20);
    expect(set().documents.flatMap(schemaErrors)).toEqual([]);
  });

  it('each app runs as one workload named after it, from the image beacon/<app>', () => {
    const all = workloads(set());
    expect(all.map((workload) => workload.name).sort()).toEqual([...APPS].sort());
    for (const workload of all) {
      const app = appOf(workload);
      expect(workload.kind, app).toBe(DAEMONS.includes(app) ? 'DaemonSet' : 'Deployment');
      expect(workload.labels['app.kubernetes.io/name'], app).toBe(app);
      const container = theContainer(workload);
      expect(container.name).toBe(app);
      // A registry prefix (registry.example.com/beacon/<app>) and a tag or digest may be added by an overlay.
      const repository = (container.image ?? '').replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^/:]+$/, '');
      expect(repository === `beacon/${app}` || repository.endsWith(`/beacon/${app}`), `${app}: image ${container.image}`).toBe(true);
    }
  });

  it('every Service selects the pods of exactly one workload, on ports its container declares', () => {
    const all = workloads(set());
    const services = ofKind(set(), Service.is);
    for (const app of APPS) expect(named(services, app), `Service ${app} (the Prometheus job name)`).toBeDefined();
    for (const service of services) {
      const name = service.metadata?.name;
      const targets = all.filter((workload) => selects(service.spec?.selector, workload.labels));
      expect(
        targets.map((workload) => workload.name),
        `Service ${name} selects`,
      ).toHaveLength(1);
      const container = theContainer(targets[0] as Workload);
      for (const port of service.spec?.ports ?? []) {
        expect(port.name, `Service ${name}: named port`).toBeTruthy();
        expect(
          containerPort(container, port.targetPort ?? port.port),
          `Service ${name} port ${port.name} -> ${String(port.targetPort)}`,
        ).toBeDefined();
      }
      if (APPS.some((app) => app === name)) {
        expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
        expect(targets[0]?.name).toBe(name);
        expect(service.spec?.ports?.map((port) => port.name)).toContain('http');
      }
    }
  });

  it('each container listens where its probes, ports and prometheus.io annotations say: /ready, /health, /metrics', () => {
    for (const workload of workloads(set())) {
      const app = appOf(workload);
      const container = theContainer(workload);
      const env = environment(set(), container);
      const listens = Number(effective(app, env, PORT_VARIABLE[app]));
      expect(containerPort(container, 'http'), `${app}: containerPort "http" is ${PORT_VARIABLE[app]}`).toBe(listens);
      expect(container.readinessProbe?.httpGet?.path, `${app} readiness`).toBe('/ready');
      expect(container.livenessProbe?.httpGet?.path, `${app} liveness`).toBe('/health');
      if (container.startupProbe) expect(container.startupProbe.httpGet?.path, `${app} startup`).toBe('/health');
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        if (probe) expect(containerPort(container, probe.httpGet?.port), `${app}: probe port ${String(probe.httpGet?.port)}`).toBe(listens);
      }
      expect(workload.annotations, app).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(listens),
        'prometheus.io/path': '/metrics',
      });
    }
  });

  it('every environment variable is one the app reads (its --help), and every reference resolves', () => {
    for (const workload of workloads(set())) {
      const app = appOf(workload);
      const env = environment(set(), theContainer(workload));
      expect(env.problems, app).toEqual([]);
      const unknown = [...env.values.keys(), ...env.references.keys()].filter((name) => !help(app).variables.has(name));
      expect(unknown, `${app}: variables its --help does not list`).toEqual([]);
    }
  });

  it('registry-api uses MongoDB, with its URL and the token from the Secret (SQLite allows one replica only)', () => {
    const api = workloads(set()).find((workload) => workload.name === 'registry-api') as Workload;
    const env = environment(set(), theContainer(api));
    expect(env.values.get('BEACON_STORE')).toBe('mongodb');
    expect(env.references.get('BEACON_MONGODB_URL')).toMatch(/^secret /);
    expect(env.references.get('BEACON_AUTH_TOKEN')).toMatch(/^secret /);
    expect(env.values.has('BEACON_SQLITE_PATH')).toBe(false);
    const gateway = workloads(set()).find((workload) => workload.name === 'realtime-gateway') as Workload;
    expect(environment(set(), theContainer(gateway)).references.get('BEACON_AUTH_TOKEN')).toMatch(/^secret /);
  });

  it('each app connects to NATS as its own identity, with only its own key of the Secret beacon-nats mounted', () => {
    for (const workload of workloads(set())) {
      const app = appOf(workload);
      const container = theContainer(workload);
      const env = environment(set(), container);
      expect(env.values.get('NATS_USER'), app).toBe(app);
      const file = env.values.get('NATS_PASSWORD_FILE') ?? '';
      const mount = container.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
      expect(mount?.readOnly, `${app}: ${file} on a read-only mount`).toBe(true);
      const volume = workload.pod.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.secret?.secretName, app).toBe('beacon-nats');
      expect(volume?.secret?.items, `${app}: only its own key`).toEqual([
        { key: app, path: file.slice((mount?.mountPath.length ?? 0) + 1) },
      ]);
    }
  });

  it('autoscalers and disruption budgets target existing workloads', () => {
    const all = workloads(set());
    const autoscalers = ofKind(set(), HorizontalPodAutoscaler.is);
    expect(autoscalers.map((hpa) => hpa.spec?.scaleTargetRef.name).sort()).toEqual([...AUTOSCALED].sort());
    for (const hpa of autoscalers) {
      const ref = hpa.spec?.scaleTargetRef;
      const target = all.find((workload) => workload.kind === ref?.kind && workload.name === ref.name);
      expect(target, `HPA ${hpa.metadata?.name} -> ${ref?.kind} ${ref?.name}`).toBeDefined();
      expect(ref?.apiVersion).toBe('apps/v1');
      // A fixed count would be put back on every apply, fighting the autoscaler.
      expect(target?.replicas, `${ref?.name}: replicas left to the HPA`).toBeUndefined();
      expect(hpa.spec?.minReplicas ?? 1).toBeGreaterThanOrEqual(2);
      // CPU utilization is measured against the request: without one the HPA cannot act.
      const cpu = hpa.spec?.metrics?.find((metric) => metric.resource?.name === 'cpu');
      if (cpu) expect(theContainer(target as Workload).resources?.requests?.cpu, `${ref?.name} cpu request`).toBeDefined();
    }
    const budgets = ofKind(set(), PodDisruptionBudget.is);
    for (const budget of budgets) {
      const targets = all.filter((workload) => selects(budget.spec?.selector?.matchLabels, workload.labels));
      expect(
        targets.map((workload) => workload.kind),
        `PDB ${budget.metadata?.name}`,
      ).toEqual(['Deployment']);
    }
    const covered = all.filter((workload) => budgets.some((budget) => selects(budget.spec?.selector?.matchLabels, workload.labels)));
    expect(covered.map((workload) => workload.name).sort()).toEqual(
      all
        .filter((w) => w.kind === 'Deployment')
        .map((w) => w.name)
        .sort(),
    );
  });

  it('pods get time to finish: terminationGracePeriodSeconds > preStop sleep + SHUTDOWN_TIMEOUT', () => {
    for (const workload of workloads(set())) {
      const app = appOf(workload);
      const container = theContainer(workload);
      const shutdown = Number(effective(app, environment(set(), container), 'SHUTDOWN_TIMEOUT'));
      const sleep = Number(container.lifecycle?.preStop?.sleep?.seconds ?? 0);
      expect(shutdown, app).toBeGreaterThan(0);
      expect(workload.pod.terminationGracePeriodSeconds ?? 30, app).toBeGreaterThan(sleep + shutdown);
    }
  });

  it('containers run as non-root on a read-only root, with requests and limits', () => {
    for (const workload of workloads(set())) {
      const container = theContainer(workload);
      const name = workload.name;
      expect(container.securityContext?.runAsNonRoot ?? workload.pod.securityContext?.runAsNonRoot, name).toBe(true);
      expect(container.securityContext?.runAsUser ?? workload.pod.securityContext?.runAsUser, name).toBe(1000);
      expect(container.securityContext?.readOnlyRootFilesystem, name).toBe(true);
      expect(container.securityContext?.allowPrivilegeEscalation, name).toBe(false);
      expect(workload.pod.automountServiceAccountToken, name).toBe(false);
      for (const kind of ['requests', 'limits'] as const) {
        expect(Object.keys(container.resources?.[kind] ?? {}).sort(), `${name} ${kind}`).toEqual(['cpu', 'memory']);
      }
      for (const mount of container.volumeMounts ?? []) {
        expect(
          workload.pod.volumes?.map((volume) => volume.name),
          `${name} mounts ${mount.name}`,
        ).toContain(mount.name);
      }
    }
  });

  it('host-network DaemonSets resolve cluster DNS and advertise the nodePort that reaches registry-api', () => {
    const all = workloads(set());
    const api = all.find((workload) => workload.name === 'registry-api') as Workload;
    const apiPort = containerPort(theContainer(api), 'http');
    const lanPorts = ofKind(set(), Service.is)
      .filter((service) => service.spec?.type === 'NodePort' && selects(service.spec.selector, api.labels))
      .flatMap((service) => service.spec?.ports ?? [])
      .filter((port) => containerPort(theContainer(api), port.targetPort ?? port.port) === apiPort)
      .map((port) => String(port.nodePort));
    expect(lanPorts, 'a NodePort Service reaching registry-api').toHaveLength(1);
    for (const workload of all.filter((w) => DAEMONS.includes(appOf(w)))) {
      // Without ClusterFirstWithHostNet a host-network pod uses the node's resolver and
      // cannot resolve nats.nats.svc.
      expect(workload.pod.hostNetwork, workload.name).toBe(true);
      expect(workload.pod.dnsPolicy, workload.name).toBe('ClusterFirstWithHostNet');
    }
    const announcer = all.find((workload) => workload.name === 'mdns-announcer') as Workload;
    const elector = all.find((workload) => workload.name === 'node-role-elector') as Workload;
    expect(effective('mdns-announcer', environment(set(), theContainer(announcer)), 'BEACON_ANNOUNCE_PORT')).toBe(lanPorts[0]);
    expect(effective('node-role-elector', environment(set(), theContainer(elector)), 'SERVER_ADVERTISE_PORT')).toBe(lanPorts[0]);
  });

  it('the Ingress routes like deploy/nginx: streams and the dashboard to realtime-gateway, the API to registry-api', () => {
    const services = ofKind(set(), Service.is);
    const [ingress, ...others] = ofKind(set(), Ingress.is);
    expect(others).toEqual([]);
    expect(ingress?.spec?.ingressClassName).toBe('nginx');
    const routes: Record<string, string> = {};
    for (const rule of ingress?.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service;
        const service = named(services, backend?.name);
        expect(service, `${path.path} -> Service ${backend?.name}`).toBeDefined();
        const port = service?.spec?.ports?.find((p) =>
          backend?.port?.name ? p.name === backend.port.name : p.port === backend?.port?.number,
        );
        expect(port, `${path.path} -> ${backend?.name} port ${backend?.port?.name ?? backend?.port?.number}`).toBeDefined();
        routes[`${path.pathType} ${path.path}`] = backend?.name ?? '';
      }
    }
    expect(routes).toEqual({
      'Exact /api/v1/ws': 'realtime-gateway',
      'Exact /api/v1/events': 'realtime-gateway',
      'Prefix /api/': 'registry-api',
      'Prefix /v1/discovery/': 'registry-api',
      'Exact /health': 'registry-api',
      'Exact /ready': 'registry-api',
      'Prefix /': 'realtime-gateway',
    });
    expect(ingress?.metadata?.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
    });
  });
}

/** Checks that need kustomize's output: one namespace, labels it adds, the ServiceMonitor. */
function renderedChecks(load: () => ManifestSet, options: { serviceMonitor: boolean }): void {
  let cached: ManifestSet | undefined;
  const set = (): ManifestSet => (cached ??= load());

  it('puts every object in the namespace it creates', () => {
    const [namespace, ...others] = ofKind(set(), Namespace.is);
    expect(others).toEqual([]);
    const outside = set()
      .documents.filter((manifest) => manifest.kind !== 'Namespace' && manifest.metadata.namespace !== namespace?.metadata?.name)
      .map((manifest) => `${manifest.kind} ${manifest.metadata.name}`);
    expect(outside).toEqual([]);
  });

  if (!options.serviceMonitor) return;
  it('the ServiceMonitor scrapes each app Service once, and nothing else (job = app name)', () => {
    const [monitor, ...others] = ofKind<IServiceMonitor>(set(), ServiceMonitor.is);
    expect(others).toEqual([]);
    expect(monitor?.spec.jobLabel, 'job label = Service name = app name').toBeUndefined();
    const portNames = monitor?.spec.endpoints?.map((endpoint) => endpoint.port) ?? [];
    expect(monitor?.spec.endpoints?.every((endpoint) => endpoint.path === '/metrics')).toBe(true);
    const scraped = ofKind(set(), Service.is)
      .filter((service) => service.metadata?.namespace === monitor?.metadata?.namespace)
      .filter((service) => selects(monitor?.spec.selector.matchLabels, service.metadata?.labels ?? {}))
      .filter((service) => service.spec?.ports?.some((port) => portNames.includes(port.name)))
      .map((service) => service.metadata?.name);
    expect(scraped.sort()).toEqual([...APPS].sort());
  });
}

// ---------------------------------------------------------------------------------------

describe('k8s: the schema validator is live', () => {
  const deployment = (): Record<string, unknown> => {
    const found = filesAsWritten().documents.find(
      (manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'registry-api',
    );
    return structuredClone(found) as unknown as Record<string, unknown>;
  };
  const podSpec = (manifest: Record<string, unknown>): { containers: Record<string, unknown>[] } & Record<string, unknown> =>
    ((manifest.spec as Record<string, unknown>).template as Record<string, unknown>).spec as { containers: Record<string, unknown>[] };

  it('accepts the real registry-api Deployment', () => {
    expect(schemaErrors(deployment())).toEqual([]);
  });

  it('rejects a wrong type, a missing required field and an unknown field', () => {
    const wrongType = deployment();
    (wrongType.spec as Record<string, unknown>).replicas = 'two';
    expect(schemaErrors(wrongType).join()).toMatch(/spec\/replicas must be integer/);

    const noName = deployment();
    delete podSpec(noName).containers[0]?.name;
    expect(schemaErrors(noName).join()).toMatch(/containers\/0 must have required property name/);

    const typo = deployment();
    const container = podSpec(typo).containers[0] as Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    expect(schemaErrors(typo)).toEqual(['Deployment registry-api: unknown field .spec.template.spec.containers[0].readinesProbe']);

    const unknownKind = { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } };
    expect(schemaErrors(unknownKind).join()).toMatch(/no schema for apps\/v1 Deploymnet/);
  });

  it('rejects a ServiceMonitor against the prometheus-operator CRD schema', () => {
    const monitor = filesAsWritten().documents.find((manifest) => manifest.kind === 'ServiceMonitor');
    expect(monitor).toBeDefined();
    expect(schemaErrors(monitor)).toEqual([]);
    const broken = structuredClone(monitor) as unknown as { spec: Record<string, unknown> };
    delete broken.spec.selector;
    broken.spec.endpoints = [{ port: 'http', intervall: '30s' }];
    expect(schemaErrors(broken).join()).toMatch(/must have required property selector/);
    broken.spec.selector = {};
    expect(schemaErrors(broken)).toEqual(['ServiceMonitor beacon: unknown field .spec.endpoints[0].intervall']);
  });
});

describe('k8s/base files as written (no kubectl needed)', () => {
  crossChecks(filesAsWritten);

  it('kustomization.yaml lists every manifest file in k8s/base (the checks above read them all)', () => {
    const base = join(K8S, 'base');
    const kustomization = parseYaml(readFileSync(join(base, 'kustomization.yaml'), 'utf8'), 'kustomization.yaml')[0] as unknown as {
      resources: string[];
    };
    const files = readdirSync(base).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });
});

describe.skipIf(KUBECTL_MISSING)(`k8s/base rendered with kubectl kustomize${KUBECTL_MISSING ? ` — skipped: ${NO_KUBECTL}` : ''}`, () => {
  crossChecks(() => render('base'));
  renderedChecks(() => render('base'), { serviceMonitor: false });

  it('ships a placeholder Secret whose values say so', () => {
    const secret = named(ofKind(render('base'), Secret.is), 'beacon-secrets');
    expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual(['BEACON_AUTH_TOKEN', 'BEACON_MONGODB_URL']);
    for (const value of Object.values(secret?.stringData ?? {})) expect(value).toContain('CHANGE-ME');
  });
});

describe.skipIf(KUBECTL_MISSING)(
  `k8s/overlays/example rendered with kubectl kustomize${KUBECTL_MISSING ? ` — skipped: ${NO_KUBECTL}` : ''}`,
  () => {
    crossChecks(() => render('overlays/example'));
    renderedChecks(() => render('overlays/example'), { serviceMonitor: true });

    it('replaces the placeholder Secret and pins image tags', () => {
      const overlay = render('overlays/example');
      const secret = named(ofKind(overlay, Secret.is), 'beacon-secrets');
      expect(secret?.stringData).toBeUndefined();
      expect(Object.keys(secret?.data ?? {}).sort()).toEqual(['BEACON_AUTH_TOKEN', 'BEACON_MONGODB_URL']);
      for (const value of Object.values(secret?.data ?? {})) expect(Buffer.from(value, 'base64').toString()).not.toContain('CHANGE-ME');
      for (const workload of workloads(overlay)) expect(theContainer(workload).image, workload.name).toMatch(/:[\w.-]+$/);
    });
  },
);

describe('NATS on Kubernetes: auth and network policy', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const policyFile = join(K8S, 'nats', 'networkpolicy.yaml');

  it("the README's NATS Helm values give every identity exactly its declared permissions, its password from beacon-nats", () => {
    const block = /```yaml\n(# nats-values\.yaml[\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'a ```yaml block starting "# nats-values.yaml"').toBeDefined();
    const values = parse(block ?? '') as {
      config: { jetstream: { enabled: boolean }; merge: { authorization: { users: Record<string, unknown>[] } } };
      container: { env: Record<string, { valueFrom: { secretKeyRef: { name: string; key: string } } }> };
    };
    expect(values.config.jetstream.enabled).toBe(true);
    const users = values.config.merge.authorization.users;
    expect(users.map((user) => user.user)).toEqual([...NATS_IDENTITIES]);
    for (const identity of NATS_IDENTITIES) {
      const declared = natsPermissions(identity);
      expect(
        users.find((user) => user.user === identity),
        identity,
      ).toEqual({
        user: identity,
        password: `<< $${passwordVariable(identity)} >>`,
        permissions: {
          // An identity that may publish nothing says so: an empty allow list is no limit to nats-server.
          publish: declared.publish.length > 0 ? { allow: declared.publish } : { deny: ['>'] },
          subscribe: { allow: declared.subscribe },
          ...(declared.answersRequests ? { allow_responses: true } : {}),
        },
      });
      expect(values.container.env[passwordVariable(identity)]?.valueFrom.secretKeyRef).toEqual({ name: 'beacon-nats', key: identity });
    }
    // The README's way to make the Secret covers the same identities.
    const made = /for id in ([\w -]+); do/.exec(readme.slice(readme.indexOf('## Kubernetes')))?.[1]?.split(' ');
    expect(made?.sort()).toEqual([...NATS_IDENTITIES].sort());
  });

  it("a NetworkPolicy admits to NATS's client port only Beacon's pods (and the nodes, for the host-network DaemonSets)", () => {
    const [policy, ...others] = parseYaml(readFileSync(policyFile, 'utf8'), policyFile);
    expect(others).toEqual([]);
    expect(schemaErrors(policy)).toEqual([]);
    if (!NetworkPolicy.is(policy)) throw new Error('not a NetworkPolicy');
    expect(policy.spec?.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/component': 'nats' });
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const clientRules = (policy.spec?.ingress ?? []).filter((rule) => rule.ports?.some((port) => port.port === 4222));
    expect(clientRules).toHaveLength(1);
    const peers = clientRules[0]?.from ?? [];
    const pods = peers.filter((peer) => peer.podSelector || peer.namespaceSelector);
    expect(pods).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'beacon' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'beacon' } },
      },
    ]);
    expect(peers.filter((peer) => peer.ipBlock).length).toBe(1);
    // Every Beacon pod carries the label the policy admits (kustomize adds it to templates).
    const kustomization = parse(readFileSync(join(K8S, 'base', 'kustomization.yaml'), 'utf8')) as {
      namespace: string;
      labels: { pairs: Record<string, string>; includeTemplates: boolean }[];
    };
    expect(kustomization.namespace).toBe('beacon');
    expect(kustomization.labels).toContainEqual({ pairs: { 'app.kubernetes.io/part-of': 'beacon' }, includeTemplates: true });
    const nats = parse(readFileSync(join(K8S, 'nats', 'kustomization.yaml'), 'utf8')) as { namespace: string; resources: string[] };
    expect(nats).toMatchObject({ namespace: 'nats', resources: ['networkpolicy.yaml'] });
  });
});
