import type { Service } from '@beacon/contracts';

/** What a watch needs of its client: where the gateway is and how to reach it. */
export interface WatchConnection {
  /** Beacon's base URL (`http://host:8097`); the WebSocket is `ws://host:8097/api/v1/ws`. */
  url: string;
  token?: string;
  /** A WebSocket constructor; default globalThis.WebSocket, else the `ws` package (Node 20). */
  WebSocket?: unknown;
}

export interface WatchFilter {
  type?: string;
  tags?: string[];
  name?: string;
  service_id?: string[];
}

export interface WatchOptions {
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export type WatchChange =
  | { kind: 'snapshot'; services: Service[] }
  | { kind: 'upsert'; service: Service; event: string }
  | { kind: 'remove'; service_id: string; event: string };

export type PickStrategy = 'random' | 'round-robin' | 'least-load';

/** A live catalog kept current over the WebSocket (being written: this stub fixes its shape). */
export class Watch {
  readonly ready: Promise<void>;

  constructor(
    readonly connection: WatchConnection,
    readonly filter: WatchFilter = {},
    readonly options: WatchOptions = {},
  ) {
    this.ready = Promise.reject(new Error('Watch is not written yet'));
    this.ready.catch(() => undefined);
  }

  get seq(): number {
    return 0;
  }

  services(): Service[] {
    return [];
  }

  get(id: string): Service | undefined {
    return this.services().find((service) => service.service_id === id);
  }

  onChange(listener: (change: WatchChange) => void): () => void {
    void listener;
    return () => undefined;
  }

  on(event: 'connected' | 'disconnected' | 'resync', listener: () => void): () => void {
    void event;
    void listener;
    return () => undefined;
  }

  pick(strategy: PickStrategy = 'random'): Service | undefined {
    void strategy;
    return undefined;
  }

  async close(): Promise<void> {}
}
