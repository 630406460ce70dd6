// The platform's NATS users and what each may do: the one definition that the local set-up writes
// into its nats-server's configuration and that the Helm chart's `nats.config.merge` must equal
// (deploy/src/nats-accounts.spec.ts compares them).
//
// Everything not allowed is refused by the server ("Permissions Violation"): no user may delete or
// purge a stream, delete a consumer, or publish on another component's subjects.
// Subjects: libs/contracts (subjects.ts, live.ts); JetStream API subjects:
// https://docs.nats.io/reference/reference-protocols/nats_api_reference
// Permissions: https://docs.nats.io/running-a-nats-service/configuration/securing_nats/authorization
//
//   import { natsAuthorization, ensureNatsPasswords } from './nats-accounts.mjs';

import { ensurePasswords, generatePassword, readPasswords } from './secrets.mjs';

/** The components with a NATS user each; the user name is the component's name. */
export const NATS_COMPONENTS = /** @type {const} */ (['collector', 'aggregator', 'gateway']);

const TRADES = 'TRADES';
const EVENTS = 'COLLECTOR_EVENTS';
/** The aggregator's durable consumer of gap events (apps/aggregator aggregator.runtime.ts). */
const GAPS_CONSUMER = 'agg_gaps';

/**
 * Publish and subscribe permissions per component. Replies to requests go to `_INBOX.>` (the
 * clients' default inbox prefix: JetStream API answers, publish acknowledgements, pull
 * deliveries, snapshot replies).
 */
export const NATS_PERMISSIONS = {
  // Publishes trades, dead letters and gap events through JetStream; creates or updates its two
  // streams (ensureStreams) and reads a symbol's last stored batch to resume (STREAM.MSG.GET).
  collector: {
    publish: {
      allow: [
        'trades.>',
        'deadletter.>',
        'gaps.>',
        '$JS.API.INFO',
        `$JS.API.STREAM.INFO.${TRADES}`,
        `$JS.API.STREAM.INFO.${EVENTS}`,
        `$JS.API.STREAM.CREATE.${TRADES}`,
        `$JS.API.STREAM.CREATE.${EVENTS}`,
        `$JS.API.STREAM.UPDATE.${TRADES}`,
        `$JS.API.STREAM.UPDATE.${EVENTS}`,
        `$JS.API.STREAM.MSG.GET.${TRADES}`,
      ],
    },
    subscribe: { allow: ['_INBOX.>'] },
  },
  // Reads TRADES through one durable consumer per owned symbol (created or updated with the
  // server's CONSUMER.CREATE.<stream>.<name>[.<filter>] API, pulled, acknowledged), and the gap
  // events through agg_gaps; dead-letters undecodable batches; publishes live updates; answers
  // snapshot requests on its shard's subject (the reply subject of each request: allow_responses).
  aggregator: {
    publish: {
      allow: [
        'live.>',
        'deadletter.>',
        '$JS.API.INFO',
        `$JS.API.STREAM.INFO.${TRADES}`,
        `$JS.API.CONSUMER.INFO.${TRADES}.*`,
        `$JS.API.CONSUMER.CREATE.${TRADES}.>`,
        `$JS.API.CONSUMER.MSG.NEXT.${TRADES}.*`,
        `$JS.ACK.${TRADES}.>`,
        `$JS.API.CONSUMER.INFO.${EVENTS}.${GAPS_CONSUMER}`,
        `$JS.API.CONSUMER.CREATE.${EVENTS}.${GAPS_CONSUMER}.>`,
        `$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.${GAPS_CONSUMER}`,
        `$JS.ACK.${EVENTS}.${GAPS_CONSUMER}.>`,
      ],
    },
    subscribe: { allow: ['_INBOX.>', 'orderflow.agg.*.snapshot'] },
    allow_responses: true,
  },
  // Follows live updates and asks the owning shard for snapshots (request/reply).
  gateway: {
    publish: { allow: ['orderflow.agg.*.snapshot'] },
    subscribe: { allow: ['_INBOX.>', 'live.>'] },
  },
};

/** Environment variable holding a component's password (the chart's Secret key is the component's name). */
export const passwordVariable = (component) => `NATS_${component.toUpperCase()}_PASSWORD`;

/**
 * The nats-server `authorization` block: one user per component with its permissions, and, when
 * `admin` is given, an `admin` user with every right (an operator's tools; the tests' inspection).
 * `passwords`: component → password, each a literal or `{ env: 'NAME' }` for a `$NAME` reference.
 */
export function natsAuthorization(passwords, { admin } = {}) {
  const users = NATS_COMPONENTS.map((c) => {
    if (!passwords?.[c]) throw new Error(`NATS accounts: no password for ${c}`);
    return { user: c, password: passwords[c], permissions: NATS_PERMISSIONS[c] };
  });
  if (admin) users.push({ user: 'admin', password: admin });
  return { users };
}

/** A password as nats.conf text: a quoted literal, or an unquoted `$VAR` reference. */
function confValue(v) {
  if (typeof v === 'object' && v !== null && typeof v.env === 'string') return `$${v.env}`;
  return JSON.stringify(v);
}

/** nats.conf text of natsAuthorization(...) (JSON, which nats-server's parser reads, with `$VAR`s unquoted). */
export function natsAuthorizationConf(passwords, o = {}) {
  const auth = natsAuthorization(passwords, o);
  const users = auth.users.map((u) => {
    const fields = [`"user": ${JSON.stringify(u.user)}`, `"password": ${confValue(u.password)}`];
    if (u.permissions) fields.push(`"permissions": ${JSON.stringify(u.permissions)}`);
    return `    { ${fields.join(', ')} }`;
  });
  return `authorization {\n  users: [\n${users.join(',\n')}\n  ]\n}\n`;
}

export { generatePassword };

/**
 * The local passwords of the components and of `admin`, in `<dir>/nats-<name>.password` (mode
 * 0600): read when present, generated once otherwise.
 * @returns {{ collector: string, aggregator: string, gateway: string, admin: string }}
 */
export const ensureNatsPasswords = (dir) => ensurePasswords(dir, 'nats', [...NATS_COMPONENTS, 'admin']);

/** The passwords of `dir` if every file is there (no generation), else null. */
export const readNatsPasswords = (dir) => readPasswords(dir, 'nats', [...NATS_COMPONENTS, 'admin']);
