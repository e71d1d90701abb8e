#!/usr/bin/env node
// Writes deploy/nats/nats.conf, the server config docker compose runs (and e2e checks), from
// the permissions in libs/contracts/src/nats-permissions.ts. Run after changing those
// (and `pnpm build`): node scripts/nats-deploy-config.mjs
import { writeFileSync } from 'node:fs';
import { DEPLOY_NATS_CONFIG, deployNatsConfig } from './lib/nats-auth.mjs';

writeFileSync(DEPLOY_NATS_CONFIG, deployNatsConfig());
process.stdout.write(`wrote ${DEPLOY_NATS_CONFIG}\n`);
