import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import type { Refusal } from './access';

type VerifyDone = (result: boolean, code?: number, message?: string) => void;

/**
 * Nest's `ws` adapter, refusing a connection at the HTTP upgrade (401 for a missing or
 * wrong token, 400 for bad parameters) rather than after it: a client then gets a status
 * it can act on, not a socket that opens and closes.
 */
export class GatewayWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly check: (request: IncomingMessage) => Refusal | null,
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } = {}): ReturnType<WsAdapter['create']> {
    return super.create(port, {
      ...options,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyDone) => {
        const refusal = this.check(info.req);
        if (refusal) done(false, refusal.status, refusal.message);
        else done(true);
      },
    });
  }
}
