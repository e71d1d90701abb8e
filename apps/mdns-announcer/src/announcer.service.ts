import { WIRE_VERSION, Subjects, type MdnsStatus, type Service } from '@beacon/contracts';
import { chooseInterfaces, instanceLabel, interfaceProblem } from '@beacon/mdns';
import {
  CatalogView,
  MetricsService,
  NatsService,
  ROOT_LOGGER,
  StartupError,
  type Counter,
  type Gauge,
  type Logger,
} from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ANNOUNCER_ENV, type AnnouncerEnv } from './config';
import { TTL } from './records/dns';
import { instanceNames, instanceRecords, recordsProblem, serviceRecords, type ServiceRecords } from './records/service-records';
import { Responder } from './responder/responder';

/** Beacon's own `_beacon._tcp` entry, under this key in every responder. */
const SELF = 'beacon-itself';
/** A recompute at least this often catches services whose expires_at passed without an event. */
const RECHECK_MS = 5000;

/**
 * Keeps the LAN's view of the catalog: every active service (unhealthy ones only with
 * MDNS_ANNOUNCE_UNHEALTHY) is answered for on every chosen interface, new and changed ones
 * announced, removed ones said goodbye to, and Beacon itself is `_beacon._tcp`.
 */
@Injectable()
export class AnnouncerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly responders: Responder[] = [];
  private announced = new Map<string, { signature: string; records: ServiceRecords }>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly announcedGauge: Gauge;
  private readonly answered: Counter;
  private readonly goodbyes: Counter;
  private readonly skippedGauge: Gauge;
  /** Services left out because their records cannot be encoded, with why (warned once each). */
  private skipped = new Map<string, string>();

  constructor(
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(ANNOUNCER_ENV) private readonly config: AnnouncerEnv,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.announcedGauge = metrics.gauge('beacon_mdns_announced_services', 'Services answered for on the LAN (Beacon itself not counted)');
    this.answered = metrics.counter('beacon_mdns_queries_answered_total', 'mDNS queries answered');
    this.goodbyes = metrics.counter('beacon_mdns_goodbyes_sent_total', 'Records withdrawn with a goodbye (TTL 0)');
    this.skippedGauge = metrics.gauge(
      'beacon_mdns_unannounceable_services',
      'Services left off the LAN because their records cannot be written into a DNS packet',
    );
  }

  get running(): boolean {
    return this.responders.length > 0 && this.responders.every((responder) => responder.running);
  }

  async onApplicationBootstrap(): Promise<void> {
    const choice = chooseInterfaces(this.config.MDNS_INTERFACE);
    const problem = interfaceProblem(choice);
    if (problem) throw new StartupError(problem);
    const { interfaces } = choice;
    for (const iface of interfaces) {
      const responder = new Responder(iface, this.config.MDNS_DOMAIN, this.logger.child({ component: 'mdns', iface: iface.name }), {
        answered: () => this.answered.inc(),
        goodbye: (count) => this.goodbyes.inc(count),
      });
      await responder.start();
      responder.put(SELF, this.selfRecords(iface.address));
      this.responders.push(responder);
    }
    this.logger.info(
      { interfaces: interfaces.map((iface) => `${iface.name} ${iface.address}`), domain: this.config.MDNS_DOMAIN },
      'answering mDNS',
    );
    this.view.onChange(() => this.schedule());
    this.timer = setInterval(() => this.schedule(), RECHECK_MS);
    this.timer.unref();
    this.nats.serve(Subjects.mdnsStatus, null, async () => ({ v: WIRE_VERSION, ...this.status() }));
    this.schedule();
  }

  /** Goodbye for every record on every interface before NATS and the process go. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.responders.map((responder) => responder.stop()));
  }

  status(): MdnsStatus {
    return { running: this.running, registered_services: this.announced.size, domain: this.config.MDNS_DOMAIN };
  }

  private eligible(service: Service, now: number): boolean {
    if (Date.parse(service.expires_at) <= now) return false;
    return service.status === 'active' || (service.status === 'unhealthy' && this.config.MDNS_ANNOUNCE_UNHEALTHY);
  }

  /** Changes come in bursts (a snapshot, a batch of registrations): one recompute per turn. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.recompute();
    });
  }

  private recompute(): void {
    const now = Date.now();
    const services = [...this.view.values()].filter((service) => this.eligible(service, now));
    const names = instanceNames(services);
    const next = new Map<string, { signature: string; records: ServiceRecords }>();
    const previouslySkipped = this.skipped;
    this.skipped = new Map();
    for (const service of services) {
      const records = serviceRecords(service, names.get(service.service_id) ?? service.name, this.config.MDNS_DOMAIN);
      const problem = recordsProblem(records);
      if (problem) {
        this.skipped.set(service.service_id, problem);
        continue;
      }
      const signature = JSON.stringify([records.instance, records.srv.data, records.txt.data, records.addresses.map((a) => a.data)]);
      next.set(service.service_id, { signature, records });
    }
    for (const [id] of this.announced) if (!next.has(id)) for (const responder of this.responders) responder.remove(id);
    for (const [id, entry] of next) {
      if (this.announced.get(id)?.signature === entry.signature) continue;
      for (const responder of this.responders) responder.put(id, entry.records);
    }
    this.announced = next;
    this.announcedGauge.set(next.size);
    this.skippedGauge.set(this.skipped.size);
    for (const [id, problem] of this.skipped) {
      if (previouslySkipped.get(id) !== problem)
        this.logger.warn({ service_id: id, problem }, 'service left off mDNS: its records cannot be encoded');
    }
  }

  /** `_beacon._tcp`: where devices find the registry (seed 000's ESP32 looks for "beacon" over tcp). */
  private selfRecords(address: string): ServiceRecords {
    const domain = this.config.MDNS_DOMAIN;
    const serviceType = `_beacon._tcp.${domain}`;
    const instance = `${instanceLabel(this.config.BEACON_ANNOUNCE_NAME)}.${serviceType}`;
    const target = `${this.config.MDNS_HOSTNAME}.${domain}`;
    const txt = [`path=/api/v1`, `api=/api/v1/services`, `txtvers=1`].map((entry) => Buffer.from(entry));
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
