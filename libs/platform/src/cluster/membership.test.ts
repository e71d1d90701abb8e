import { WIRE_VERSION, membersSubject, type MemberAnnouncement } from '@beacon/contracts';
import { sleep, waitFor } from '@beacon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, startNatsFixture, type NatsFixture } from '../nats/nats.fixture';
import { Membership, type MembershipOptions } from './membership';

let fixture: NatsFixture;

beforeAll(async () => {
  fixture = await startNatsFixture();
});

afterAll(async () => {
  await fixture?.close();
});

/** A replica of `app` on its own connection, as each app process has one. */
async function replica(app: string, memberId: string, options: Partial<MembershipOptions> = {}): Promise<Membership> {
  const { nats, logger } = await fixture.service();
  return new Membership(nats, logger, { app, memberId, intervalMs: 100, settleMs: 150, ...options });
}

function announcement(app: string, memberId: string, fields: Partial<MemberAnnouncement> = {}): MemberAnnouncement {
  return { v: WIRE_VERSION, app, member_id: memberId, interval_ms: 100, leaving: false, timestamp: new Date().toISOString(), ...fields };
}

describe('Membership', () => {
  it('learns its peers before it is ready, and splits keys so each has exactly one owner', async () => {
    const a = await replica('split', 'a');
    await a.start();
    const b = await replica('split', 'b');
    await b.start(); // a answers b's first announcement at once: b knows a when ready
    expect(b.members).toEqual(['a', 'b']);
    await waitFor('a hears b', () => a.members.length === 2);
    const keys = Array.from({ length: 200 }, (_, index) => `service-${index}`);
    const ownedByA = keys.filter((key) => a.owns(key));
    const ownedByB = keys.filter((key) => b.owns(key));
    expect(ownedByA.length + ownedByB.length).toBe(keys.length);
    expect(ownedByA.filter((key) => b.owns(key))).toEqual([]);
    expect(ownedByA.length).toBeGreaterThan(40);
    expect(ownedByB.length).toBeGreaterThan(40);
    a.stop();
    b.stop();
  });

  it('drops a peer that says goodbye at once, and one that goes silent after its missed announcements', async () => {
    const a = await replica('leave', 'a');
    const changes: (readonly string[])[] = [];
    a.onChange((members) => changes.push(members));
    await a.start();
    // b announces rarely: only its goodbye can make a drop it this soon.
    const b = await replica('leave', 'b', { intervalMs: 5000 });
    await b.start();
    await waitFor('a hears b', () => a.members.includes('b'));
    b.stop();
    await waitFor('b gone', () => a.members.length === 1, 3000);
    expect(a.owns('anything')).toBe(true);

    const raw = await fixture.raw();
    raw.publish(membersSubject('leave'), bytes(announcement('leave', 'ghost'))); // announces once, then nothing
    await waitFor('the ghost joins', () => a.members.includes('ghost'));
    const joined = Date.now();
    await waitFor('the ghost is dropped', () => !a.members.includes('ghost'), 2000);
    expect(Date.now() - joined).toBeGreaterThanOrEqual(200); // about 3 × its 100 ms interval
    expect(changes.map((members) => members.join(','))).toEqual(['a,b', 'a', 'a,ghost', 'a']);
    a.stop();
  });

  it('ignores announcements that are not one: they never change the membership', async () => {
    const a = await replica('noise', 'a');
    await a.start();
    const raw = await fixture.raw();
    raw.publish(membersSubject('noise'), bytes('not json'));
    raw.publish(membersSubject('noise'), bytes(announcement('noise', '')));
    raw.publish(membersSubject('noise'), bytes(announcement('noise', 'slow', { interval_ms: 3_600_000 })));
    raw.publish(membersSubject('noise'), bytes({ ...announcement('noise', 'typo'), leaving: 'no' }));
    await sleep(200);
    expect(a.members).toEqual(['a']);
    a.stop();
  });
});
