/**
 * Why a request's reply subject is not one a Beacon responder may answer on, or null.
 *
 * nats-server lets a responder (`allow_responses`) publish once to whatever reply subject
 * a request names, even one its own permissions deny: a requester naming
 * `$KV.beacon_election.server` or `$JS.API.STREAM.PURGE.BEACON_EVENTS` as its reply would
 * have registry-api overwrite the election lease or purge the event stream on its behalf.
 * Every NATS client's replies arrive on an inbox (`_INBOX.…`, Beacon's identities on
 * `_INBOX.<identity>.…`), so nothing else is answered.
 */
export function replySubjectProblem(reply: string): string | null {
  const tokens = reply.split('.');
  if (tokens[0] !== '_INBOX' || tokens.length < 2) return `reply subject "${reply}" is not an inbox (_INBOX.…)`;
  if (tokens.some((token) => token === '' || /[\s*>]/.test(token))) return `reply subject "${reply}" is not a plain subject`;
  return null;
}
