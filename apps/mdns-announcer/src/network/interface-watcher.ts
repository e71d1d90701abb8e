import {
  chooseInterfaces,
  diffInterfaces,
  hasChanges,
  type InterfaceChanges,
  type InterfaceChoice,
  type MdnsInterface,
} from '@beacon/mdns';

/** How often the interfaces are looked at: a LAN that comes up is answered on within this. */
export const INTERFACE_POLL_MS = 3000;

/**
 * Follows the interfaces MDNS_INTERFACE chooses (every LAN one when empty) as they come and go.
 *
 * It polls `os.networkInterfaces()` rather than listening to netlink: Node has no netlink
 * socket without a native addon, `ip monitor` is not in a bare container, and a poll every
 * few seconds costs one syscall while Wi-Fi or DHCP take longer than that to come up anyway.
 */
export class InterfaceWatcher {
  private current: InterfaceChoice;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    private readonly wanted: readonly string[],
    /** Applies a change and returns the interfaces now served (one that failed to open is tried again next poll); must not throw. */
    private readonly apply: (changes: InterfaceChanges, choice: InterfaceChoice) => Promise<MdnsInterface[]>,
    private readonly choose: (wanted: readonly string[]) => InterfaceChoice = chooseInterfaces,
  ) {
    this.current = { interfaces: [], unknown: [...wanted], available: [] };
  }

  get choice(): InterfaceChoice {
    return this.current;
  }

  /** Applies what is there now, then keeps polling. */
  async start(intervalMs = INTERFACE_POLL_MS): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Stops polling once the change being applied (if any) is done. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** One change at a time: a slow socket open must not overlap the next poll's diff. */
  private poll(): Promise<void> {
    this.polling = this.polling.then(async () => {
      const next = this.choose(this.wanted);
      const changes = diffInterfaces(this.current.interfaces, next.interfaces);
      if (!hasChanges(changes) && this.current.unknown.join() === next.unknown.join()) return;
      this.current = { ...next, interfaces: await this.apply(changes, next) };
    });
    return this.polling;
  }
}
