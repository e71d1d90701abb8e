// The page's copy of the catalog. Like the backend's catalog views it applies a change
// only when its revision is newer than what it holds, so a replayed or late event can
// never roll a service back. No DOM here: main.js renders what apply() reports.

export const STATUSES = ['active', 'unhealthy', 'inactive', 'expired'];

/**
 * The registry's rule (README: "a record past expires_at reads expired even before the
 * reaper marks it"), so a row turns `expired` on time without waiting for the event.
 */
export function effectiveStatus(service, now) {
  return statusAt(service.status, Date.parse(service.expires_at), now);
}

/** The same, for callers that keep expires_at parsed (the table, every second, every row). */
export function statusAt(status, expiresAtMs, now) {
  return expiresAtMs <= now ? 'expired' : status;
}

/** Event types whose `data` is the whole service (the rest carry it under `data.service`). */
const SERVICE_EVENTS = new Set(['service_registered', 'service_updated', 'service_expired', 'health_status_changed']);

export class Catalog {
  /** service_id → service, as last applied. */
  services = new Map();
  /** service_id → newest revision seen, kept after removal so an old event cannot resurrect it. */
  #revisions = new Map();

  /** A snapshot is the whole truth at one point of the stream: take it as is. Returns the ids gone. */
  replaceAll(services) {
    const removed = [...this.services.keys()];
    this.services = new Map(services.map((service) => [service.service_id, service]));
    // The gateway sends nothing older than the snapshot after it, so older tombstones can go.
    this.#revisions = new Map(services.map((service) => [service.service_id, service.revision ?? 0]));
    return { removed: removed.filter((id) => !this.services.has(id)) };
  }

  /**
   * Applies one event message. Returns `{ changed: id }`, `{ removed: id }` or null when
   * the message changes nothing (older revision, unknown type, unknown service).
   */
  apply(message) {
    const data = message.data ?? {};
    if (message.type === 'service_heartbeat') return this.#renew(data);
    const service = SERVICE_EVENTS.has(message.type) ? data : data.service;
    const id = data.service_id ?? service?.service_id;
    if (typeof id !== 'string') return null;
    const revision = message.revision ?? service?.revision;
    if (typeof revision === 'number' && revision <= (this.#revisions.get(id) ?? -1)) return null;
    if (typeof revision === 'number') this.#revisions.set(id, revision);

    if (message.type === 'service_deregistered') {
      return this.services.delete(id) ? { removed: id } : null;
    }
    if (!service || typeof service !== 'object') return null;
    const { previous_health: _previous, ...plain } = service;
    this.services.set(id, this.#keepNewerRenewal(this.services.get(id), plain));
    return { changed: id };
  }

  /**
   * Renewals travel outside the event stream (no seq, no replay), so one may overtake an
   * older stream event: the newest heartbeat wins over a change that predates it.
   */
  #keepNewerRenewal(held, incoming) {
    if (!held?.last_heartbeat || !incoming.last_heartbeat) return incoming;
    if (Date.parse(held.last_heartbeat) <= Date.parse(incoming.last_heartbeat)) return incoming;
    return { ...incoming, last_heartbeat: held.last_heartbeat, expires_at: held.expires_at };
  }

  #renew(data) {
    const held = this.services.get(data.service_id);
    if (!held) return null;
    // Time, not revision: a renewal's revision may be ahead of stream events not yet delivered.
    if (Date.parse(data.expires_at) <= Date.parse(held.expires_at)) return null;
    this.services.set(held.service_id, {
      ...held,
      expires_at: data.expires_at,
      last_heartbeat: data.last_heartbeat ?? held.last_heartbeat,
    });
    return { changed: held.service_id };
  }
}
