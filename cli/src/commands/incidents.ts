import { Option, type Command } from 'commander';
import type { IncidentKind, IncidentStatus, WebhookFormat } from '@beacon/client';
import { INCIDENT_KINDS, INCIDENT_STATUSES, WEBHOOK_FORMATS } from '@beacon/contracts';
import { act } from '../context';
import { collect, integer } from '../options';
import { DELIVERY_COLUMNS, INCIDENT_COLUMNS, WEBHOOK_COLUMNS, incidentFields, webhookFields } from '../views';

export function addIncidentCommands(program: Command): void {
  const incidents = program.command('incidents').description('incidents: a service down, expired or under critical load');

  incidents
    .command('ls')
    .alias('list')
    .description('list incidents, newest first (GET /api/v1/incidents)')
    .addOption(new Option('--status <status>', 'only open or only resolved ones').choices(INCIDENT_STATUSES))
    .option('--service <id>', "only this service's")
    .addOption(new Option('--kind <kind>', 'only this kind').choices(INCIDENT_KINDS))
    .option('--since <time>', 'started at or after (ISO 8601)')
    .option('--limit <n>', 'at most this many', integer('--limit', 1))
    .option('--skip <n>', 'skip this many first', integer('--skip', 0))
    .action(
      act(
        async (
          { client, output },
          flags: { status?: IncidentStatus; service?: string; kind?: IncidentKind; since?: string; limit?: number; skip?: number },
        ) => {
          const answer = await (
            await client()
          ).incidents.list({
            status: flags.status,
            service_id: flags.service,
            kind: flags.kind,
            since: flags.since,
            limit: flags.limit,
            skip: flags.skip,
          });
          output.list(answer, { rows: answer.incidents, columns: INCIDENT_COLUMNS, id: (i) => i.incident_id });
        },
      ),
    );

  incidents
    .command('get')
    .description('show one incident (GET /api/v1/incidents/{id})')
    .argument('<id>', 'incident id')
    .action(
      act(async ({ client, output }, id: string) => {
        const incident = await (await client()).incidents.get(id);
        output.record(incident, incident.incident_id, incidentFields(incident));
      }),
    );

  incidents
    .command('resolve')
    .description('resolve an open incident by hand (POST /api/v1/incidents/{id}/resolve)')
    .argument('<id>', 'incident id')
    .option('--note <text>', 'why, kept with the incident')
    .action(
      act(async ({ client, output }, id: string, flags: { note?: string }) => {
        const incident = await (await client()).incidents.resolve(id, flags.note);
        output.record(incident, incident.incident_id, incidentFields(incident));
      }),
    );

  incidents
    .command('ack')
    .alias('acknowledge')
    .description('acknowledge an open incident: it stays open, reminders stop (POST /api/v1/incidents/{id}/acknowledge)')
    .argument('<id>', 'incident id')
    .option('--note <text>', 'a note kept with the incident')
    .action(
      act(async ({ client, output }, id: string, flags: { note?: string }) => {
        const incident = await (await client()).incidents.acknowledge(id, flags.note);
        output.record(incident, incident.incident_id, incidentFields(incident));
      }),
    );
}

export function addWebhookCommands(program: Command): void {
  const webhooks = program.command('webhooks').description('webhooks: where incidents and catalog events are posted');

  webhooks
    .command('ls')
    .alias('list')
    .description('list webhooks (GET /api/v1/webhooks)')
    .action(
      act(async ({ client, output }) => {
        const answer = await (await client()).webhooks.list();
        output.list(answer, { rows: answer.webhooks, columns: WEBHOOK_COLUMNS, id: (w) => w.webhook_id });
      }),
    );

  webhooks
    .command('add')
    .description('add a webhook (POST /api/v1/webhooks)')
    .argument('<url>', 'where to POST')
    .option('--event <type>', 'an event type to send, or * for all (repeatable; default *)', collect)
    .addOption(
      new Option('--format <format>', "the body: Beacon's own JSON, or what that service's incoming webhook takes").choices(
        WEBHOOK_FORMATS,
      ),
    )
    .option('--secret <secret>', 'signs each body (X-Beacon-Signature)')
    .option('--service <id>', "only this service's events")
    .option('--type <type>', 'only events about services of this type')
    .option('--tag <tag>', 'only events about services carrying this tag (repeatable)', collect)
    .option('--description <text>', 'a note for people')
    .option('--disabled', 'create it switched off')
    .action(
      act(
        async (
          { client, output },
          url: string,
          flags: {
            event?: string[];
            format?: WebhookFormat;
            secret?: string;
            service?: string;
            type?: string;
            tag?: string[];
            description?: string;
            disabled?: boolean;
          },
        ) => {
          const webhook = await (
            await client()
          ).webhooks.create({
            url,
            events: flags.event ?? ['*'],
            format: flags.format,
            secret: flags.secret,
            service_id: flags.service,
            type: flags.type,
            tags: flags.tag,
            description: flags.description,
            enabled: flags.disabled ? false : undefined,
          });
          output.record(webhook, webhook.webhook_id, webhookFields(webhook));
        },
      ),
    );

  webhooks
    .command('rm')
    .alias('remove')
    .description('remove a webhook (DELETE /api/v1/webhooks/{id})')
    .argument('<id>', 'webhook id')
    .action(
      act(async ({ client, output }, id: string) => {
        await (await client()).webhooks.remove(id);
        if (output.mode === 'json') return output.json({ webhook_id: id, removed: true });
        if (output.mode === 'quiet') return output.line(id);
        output.line(`removed ${id}`);
      }),
    );

  webhooks
    .command('test')
    .description('send a sample event now and print the delivery (POST /api/v1/webhooks/{id}/test)')
    .argument('<id>', 'webhook id')
    .action(
      act(async ({ client, output }, id: string) => {
        const delivery = await (await client()).webhooks.test(id);
        output.list(delivery, { rows: [delivery], columns: DELIVERY_COLUMNS, id: (d) => d.delivery_id });
      }),
    );

  webhooks
    .command('deliveries')
    .description("a webhook's delivery log, newest first (GET /api/v1/webhooks/{id}/deliveries)")
    .argument('<id>', 'webhook id')
    .option('--limit <n>', 'at most this many', integer('--limit', 1))
    .action(
      act(async ({ client, output }, id: string, flags: { limit?: number }) => {
        const answer = await (await client()).webhooks.deliveries(id, { limit: flags.limit });
        output.list(answer, { rows: answer.deliveries, columns: DELIVERY_COLUMNS, id: (d) => d.delivery_id });
      }),
    );
}
