import { WIRE_VERSION, Subjects, type MdnsStatus, type Service } from '@beacon/contracts';
import { instanceLabel, noInterfaceReason, type InterfaceChanges, type InterfaceChoice, type MdnsInterface } from '@beacon/mdns';
import {
  CatalogView,
  MetricsService,
  NatsService,
  HealthService,
  ROOT_LOGGER,
  TimerQueue,
  type Counter,
  type Gauge,
  type Logger,
} from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ANNOUNCER_ENV, type AnnouncerEnv } from './config';
import { InterfaceWatcher } from './network/interface-watcher';
import { TTL } from './records/dns';
import { CatalogRecords, type RecordChanges } from './records/catalog-records';
import { instanceRecords, type ServiceRecords } from './records/service-records';
import { Responder } from './responder/responder';

/** Beacon's own `_beacon._tcp` entry, under this key in every responder. */
const SELF = 'beacon-itself';
/**
 * The safety net under the incremental updates: this often every service in the copy is
 * checked against what is announced (a no-op for each one unchanged since). Expiries do
 * not wait for it: each service's `expires_at` is a deadline in a timer queue.
 */
const RECONCILE_MS = 60_000;

/**
 * Keeps the LAN's view of the catalog: every active service (unhealthy ones only with
 * MDNS_ANNOUNCE_UNHEALTHY) is answered for on every chosen interface, new and changed ones
 * announced, removed ones said goodbye to, and Beacon itself is `_beacon._tcp`. Interfaces
 * are followed as they come and go (like Avahi): with none it runs and says so in health.
 */
@Injectable()
export class AnnouncerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private responders: Responder[] = [];
  private readonly watcher: InterfaceWatcher;
  private readonly records: CatalogRecords;
  private readonly expiries = new TimerQueue((due) => {
    for (const { key } of due) this.refresh(key);
  });
  private timer: NodeJS.Timeout | null = null;
  private readonly announcedGauge: Gauge;
  private readonly answered: Counter;
  private readonly goodbyes: Counter;
  private readonly goodbyesDropped: Counter;
  private readonly skippedGauge: Gauge;

  constructor(
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(ANNOUNCER_ENV) private readonly config: AnnouncerEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) metrics: MetricsService,
    @Inject(HealthService) health: HealthService,
  ) {
    this.records = new CatalogRecords(this.config.MDNS_DOMAIN);
    this.watcher = new InterfaceWatcher(this.config.MDNS_INTERFACE, (changes, choice) => this.follow(changes, choice));
    health.addHealthDetail('mdns', () => this.status());
    this.announcedGauge = metrics.gauge('beacon_mdns_announced_services', 'Services answered for on the LAN (Beacon itself not counted)');
    this.answered = metrics.counter('beacon_mdns_queries_answered_total', 'mDNS queries answered');
    this.goodbyes = metrics.counter('beacon_mdns_goodbyes_sent_total', 'Records withdrawn with a goodbye (TTL 0)');
    this.goodbyesDropped = metrics.counter(
      'beacon_mdns_goodbyes_dropped_total',
      'Services whose goodbye was never sent (too many pending, or shutdown came first): their records leave caches by TTL',
    );
    this.skippedGauge = metrics.gauge(
      'beacon_mdns_unannounceable_services',
      'Services left off the LAN because their records cannot be written into a DNS packet',
    );
  }

  /** Answering on the LAN: at least one interface, and every one's socket open. */
  get running(): boolean {
    return this.responders.length > 0 && this.responding;
  }

  /** Every interface there is has its socket open (none at all is not a fault of this process). */
  get responding(): boolean {
    return this.responders.every((responder) => responder.running);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.watcher.start();
    this.view.onChange((change) => this.refresh(change.service.service_id));
    this.timer = setInterval(() => this.reconcile(), RECONCILE_MS);
    this.timer.unref();
    this.nats.serve(Subjects.mdnsStatus, null, async () => ({ v: WIRE_VERSION, ...this.status() }));
    this.reconcile();
  }

  /** Goodbye for every record on every interface before NATS and the process go. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.expiries.stop();
    await this.watcher.stop();
    await Promise.all(this.responders.map((responder) => responder.stop()));
  }

  status(): MdnsStatus {
    return {
      running: this.running,
      registered_services: this.records.size,
      domain: this.config.MDNS_DOMAIN,
      interfaces: this.responders.map((responder) => `${responder.iface.name} ${responder.iface.address}`),
      problem: noInterfaceReason(this.watcher.choice),
    };
  }

  /** Applies one poll's changes; returns the interfaces answered on now. */
  private async follow(changes: InterfaceChanges, choice: InterfaceChoice): Promise<MdnsInterface[]> {
    for (const iface of changes.removed) await this.close(iface);
    for (const { from, to } of changes.moved) await this.move(from, to);
    for (const iface of changes.added) await this.open(iface);
    if (choice.unknown.length > 0)
      this.logger.warn(
        { waiting_for: choice.unknown, available: choice.available.map(describe) },
        'MDNS_INTERFACE names interfaces not here (yet)',
      );
    const reason = noInterfaceReason(choice);
    if (reason) this.logger.warn({ domain: this.config.MDNS_DOMAIN }, `${reason}: answering nothing until one comes up`);
    return this.responders.map((responder) => responder.iface);
  }

  private responderOn(iface: MdnsInterface): Responder | undefined {
    return this.responders.find((responder) => responder.iface.name === iface.name && responder.iface.address === iface.address);
  }

  /** A new interface hears everything answered elsewhere, announced. One that fails to open is tried again next poll. */
  private async open(iface: MdnsInterface): Promise<void> {
    const responder = new Responder(iface, this.config.MDNS_DOMAIN, this.logger.child({ component: 'mdns', iface: iface.name }), {
      answered: () => this.answered.inc(),
      goodbye: (count) => this.goodbyes.inc(count),
      goodbyesDropped: (count) => this.goodbyesDropped.inc(count),
    });
    try {
      await responder.start();
    } catch (error) {
      this.logger.error({ err: error, iface: describe(iface) }, 'could not answer mDNS on this interface; trying again');
      return;
    }
    responder.put(SELF, this.selfRecords(iface.address));
    for (const records of this.records.served()) responder.put(records.serviceId, records);
    this.responders.push(responder);
    this.logger.info({ iface: describe(iface), domain: this.config.MDNS_DOMAIN }, 'answering mDNS');
  }

  /** Goodbye where the socket can still send (the send error is logged otherwise), then closed. */
  private async close(iface: MdnsInterface): Promise<void> {
    const responder = this.responderOn(iface);
    if (!responder) return;
    this.responders = this.responders.filter((other) => other !== responder);
    // Said when /health stops listing it: its goodbyes then leave at the announcement pace (up to 2 s).
    this.logger.info({ iface: describe(iface) }, 'interface gone: no longer answering mDNS on it');
    await responder.stop();
  }

  /** Beacon's own A record follows the address: `put` says goodbye to the old one and announces the new. */
  private async move(from: MdnsInterface, to: MdnsInterface): Promise<void> {
    const responder = this.responderOn(from);
    if (!responder) return this.open(to);
    try {
      await responder.moveTo(to);
    } catch (error) {
      this.logger.error({ err: error, iface: describe(to) }, 'could not answer mDNS on the new address; trying again');
      this.responders = this.responders.filter((other) => other !== responder);
      await responder.stop();
      return;
    }
    responder.put(SELF, this.selfRecords(to.address));
    this.logger.info({ from: describe(from), to: describe(to) }, 'interface address changed: answering mDNS from the new one');
  }

  private eligible(service: Service, now: number): boolean {
    if (Date.parse(service.expires_at) <= now) return false;
    return service.status === 'active' || (service.status === 'unhealthy' && this.config.MDNS_ANNOUNCE_UNHEALTHY);
  }

  /** Brings one service's records on the LAN in line with the copy of the catalog. */
  private refresh(serviceId: string): void {
    const service = this.view.get(serviceId);
    const now = Date.now();
    const announce = service && this.eligible(service, now) ? service : undefined;
    // Unchanged since the last look (the reconcile pass, mostly): its deadline is queued already.
    if (announce && this.records.holds(announce)) return;
    if (announce) this.expiries.schedule(serviceId, Date.parse(announce.expires_at));
    else this.expiries.cancel(serviceId);
    this.apply(this.records.set(serviceId, announce));
  }

  /** Every service in the copy, and every one announced that the copy no longer holds. */
  private reconcile(): void {
    for (const service of this.view.values()) this.refresh(service.service_id);
    for (const id of [...this.records.ids()]) if (!this.view.get(id)) this.refresh(id);
  }

  private apply(changes: RecordChanges): void {
    for (const id of changes.removed) for (const responder of this.responders) responder.remove(id);
    for (const records of changes.put) for (const responder of this.responders) responder.put(records.serviceId, records);
    for (const { serviceId, problem } of changes.problems)
      this.logger.warn({ service_id: serviceId, problem }, 'service left off mDNS: its records cannot be encoded');
    this.announcedGauge.set(this.records.size);
    this.skippedGauge.set(this.records.problemCount);
  }

  /** `_beacon._tcp`: where devices find the registry (seed 000's ESP32 looks for "beacon" over tcp). */
  private selfRecords(address: string): ServiceRecords {
    const domain = this.config.MDNS_DOMAIN;
    const serviceType = `_beacon._tcp.${domain}`;
    const instance = `${instanceLabel(this.config.BEACON_ANNOUNCE_NAME)}.${serviceType}`;
    const target = `${this.config.MDNS_HOSTNAME}.${domain}`;
    const txt = [`path=/api/v1`, `api=/api/v1/services`, `txtvers=1`];
    return instanceRecords({
      serviceId: SELF,
      serviceType,
      instance,
      target,
      port: this.config.BEACON_ANNOUNCE_PORT,
      txt,
      addresses: [{ name: target, type: 'A', ttl: TTL.host, class: 'IN', flush: true, data: address }],
    });
  }
}

const describe = (iface: MdnsInterface): string => `${iface.name} ${iface.address}`;
