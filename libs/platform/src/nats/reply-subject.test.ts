import { describe, expect, it } from 'vitest';
import { replySubjectProblem } from './reply-subject';

describe('reply subjects a responder answers on', () => {
  it('are inboxes, the default and the per-identity ones', () => {
    expect(replySubjectProblem('_INBOX.5VYdPmnJQS1yLq7N2hVZ0h')).toBeNull();
    expect(replySubjectProblem('_INBOX.ttl-reaper.5VYdPmnJQS1yLq7N2hVZ0h.12')).toBeNull();
  });

  it('never a subject the requester picks to have the responder publish there', () => {
    for (const reply of [
      '$KV.beacon_election.server',
      '$JS.API.STREAM.PURGE.BEACON_EVENTS',
      'beacon.registry.purge',
      'beacon.events.service.registered',
      '_INBOX',
      '_INBOX.',
      '_INBOX..x',
      '_INBOX.*',
      '_INBOX.>',
      '_INBOX.a b',
      '_inbox.x',
    ]) {
      expect(replySubjectProblem(reply), reply).not.toBeNull();
    }
  });
});
