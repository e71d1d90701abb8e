import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * A small LAN of network namespaces for multi-host and multicast tests: a Linux bridge
 * in the root namespace (with an address, so the test process reaches every host), and
 * one namespace per host joined to it by a veth pair, each with its own address and a
 * multicast route. mDNS between hosts crosses the bridge (224.0.0.251 is link-local, so
 * bridges always flood it). Needs root and iproute2.
 */
export interface LanHost {
  /** The namespace's name (`ip netns exec <name> ...`). */
  netns: string;
  ip: string;
  /** Starts a process inside this host's namespace. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace and returns its result. */
  run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string };
}

export interface Lan {
  /** The root namespace's address on the LAN (bind servers the hosts must reach to it, or to 0.0.0.0). */
  rootIp: string;
  hosts: LanHost[];
  dispose(): void;
}

function ip(args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

/** Why namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  const probe = `bcn-probe-${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.error) return 'iproute2 (the ip command) is not installed';
  if (added.status !== 0) return `cannot create network namespaces: ${added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

let lans = 0;

/** Creates `count` hosts on one bridge; `dispose()` removes everything. */
export function createLan(count: number): Lan {
  lans += 1;
  const id = `${process.pid % 10000}${lans}`;
  // A /24 per LAN, chosen by process so parallel test files do not collide.
  const subnet = `10.${77 + (lans % 50)}.${process.pid % 250}`;
  const bridge = `bcnbr${id}`.slice(0, 15);
  const created: string[] = [];
  const dispose = (): void => {
    for (const netns of created) spawnSync('ip', ['netns', 'del', netns]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  try {
    ip(['link', 'add', bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${subnet}.254/24`, 'dev', bridge]);
    ip(['link', 'set', bridge, 'up']);
    const hosts: LanHost[] = [];
    for (let index = 0; index < count; index += 1) {
      const netns = `bcn${id}h${index}`;
      const outside = `bcn${id}o${index}`.slice(0, 15);
      const inside = `bcn${id}i${index}`.slice(0, 15);
      const hostIp = `${subnet}.${index + 1}`;
      ip(['netns', 'add', netns]);
      created.push(netns);
      ip(['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
      ip(['link', 'set', outside, 'master', bridge]);
      ip(['link', 'set', outside, 'up']);
      ip(['link', 'set', inside, 'netns', netns]);
      ip(['-n', netns, 'addr', 'add', `${hostIp}/24`, 'dev', inside]);
      ip(['-n', netns, 'link', 'set', 'lo', 'up']);
      ip(['-n', netns, 'link', 'set', inside, 'up', 'multicast', 'on']);
      ip(['-n', netns, 'route', 'add', '224.0.0.0/4', 'dev', inside]);
      hosts.push({
        netns,
        ip: hostIp,
        spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', netns, command, ...args], options),
        run: (command, args) => {
          const result = spawnSync('ip', ['netns', 'exec', netns, command, ...args], { encoding: 'utf8', timeout: 60_000 });
          return { status: result.status, stdout: result.stdout, stderr: result.stderr };
        },
      });
    }
    return { rootIp: `${subnet}.254`, hosts, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/** A namespace with only loopback up: a host whose LAN has not come up yet (see `linkHosts`). */
export interface IsolatedHost extends Omit<LanHost, 'ip'> {
  dispose(): void;
}

let isolated = 0;

export function createIsolatedHost(): IsolatedHost {
  isolated += 1;
  const netns = `bcn${process.pid % 10000}x${isolated}`;
  ip(['netns', 'add', netns]);
  try {
    ip(['-n', netns, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    spawnSync('ip', ['netns', 'del', netns]);
    throw error;
  }
  return {
    netns,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', netns, command, ...args], options),
    run: (command, args) => {
      const result = spawnSync('ip', ['netns', 'exec', netns, command, ...args], { encoding: 'utf8', timeout: 60_000 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    dispose: () => void spawnSync('ip', ['netns', 'del', netns]),
  };
}

/** A veth pair joining two namespaces (a cable plugged in); `dispose` unplugs it. */
export interface VethLink {
  /** The interface's name in each namespace. */
  names: [string, string];
  /** Replaces the address of one end (`0` or `1`), as a DHCP lease renewed elsewhere would. */
  readdress(end: 0 | 1, from: string, to: string): void;
  dispose(): void;
}

let links = 0;

/** Plugs `a` and `b` together with the given addresses (`10.1.2.3/24`) and a multicast route on each end. */
export function linkHosts(a: { netns: string }, b: { netns: string }, addresses: [string, string]): VethLink {
  links += 1;
  const names: [string, string] = [`bcn${process.pid % 10000}v${links}a`.slice(0, 15), `bcn${process.pid % 10000}v${links}b`.slice(0, 15)];
  const ends = [a.netns, b.netns] as const;
  ip(['link', 'add', names[0], 'type', 'veth', 'peer', 'name', names[1]]);
  const dispose = (): void => void spawnSync('ip', ['-n', ends[0], 'link', 'del', names[0]]);
  try {
    for (const end of [0, 1] as const) {
      ip(['link', 'set', names[end], 'netns', ends[end]]);
      ip(['-n', ends[end], 'addr', 'add', addresses[end], 'dev', names[end]]);
      ip(['-n', ends[end], 'link', 'set', names[end], 'up', 'multicast', 'on']);
      ip(['-n', ends[end], 'route', 'add', '224.0.0.0/4', 'dev', names[end]]);
    }
  } catch (error) {
    dispose();
    spawnSync('ip', ['link', 'del', names[0]]);
    throw error;
  }
  return {
    names,
    readdress(end, from, to) {
      // Deleting the last address takes the device's routes with it (and a primary address
      // its secondaries), so the new address comes after, and the multicast route again.
      ip(['-n', ends[end], 'addr', 'del', from, 'dev', names[end]]);
      ip(['-n', ends[end], 'addr', 'add', to, 'dev', names[end]]);
      ip(['-n', ends[end], 'route', 'replace', '224.0.0.0/4', 'dev', names[end]]);
    },
    dispose,
  };
}
