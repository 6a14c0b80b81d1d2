// The authorization block of a nats-server configuration file: users, passwords and subject permissions, rendered from data.
import { SplitnetError } from '@splitnet/model';
import { subjectProblem } from './transport.js';

/** One NATS user and what it may do. */
export interface NatsUser {
  readonly user: string;
  readonly password: string;
  /** Subjects (wildcards allowed) it may publish on; nothing else. */
  readonly publish: readonly string[];
  /** Subjects (wildcards allowed) it may subscribe to; nothing else. */
  readonly subscribe: readonly string[];
  /**
   * It may answer requests it received (publish once on their reply subject) without any permission on the
   * requester's reply prefix (nats-server's `allow_responses`).
   */
  readonly allowResponses?: boolean;
  /** A comment line above the user (what it is for). */
  readonly comment?: string;
}

/** Characters a user name or password may hold: they are written unquoted-safe inside double quotes. */
const SAFE = /^[A-Za-z0-9._~+/=-]+$/;

/** An allow list; an empty one would allow everything to nats-server, so nothing is spelled `deny: [">"]`. */
function allowed(list: readonly string[]): string {
  return list.length === 0 ? '{ deny: [">"] }' : `{ allow: [${list.map((x) => `"${x}"`).join(', ')}] }`;
}

/**
 * An `authorization { users = [...] }` block for nats-server (2.2 or later). Every user gets allow lists only:
 * what is not listed is denied (an empty list denies everything). Names, passwords and subjects are checked, so the file cannot be broken or
 * widened by what it is given.
 * @throws SplitnetError E_USAGE on a name, password or subject the block cannot hold.
 */
export function renderAuthorization(users: readonly NatsUser[], indent = ''): string {
  const names = new Set<string>();
  const lines = [`${indent}authorization {`, `${indent}  users = [`];
  for (const u of users) {
    if (!SAFE.test(u.user) || !SAFE.test(u.password))
      throw new SplitnetError('E_USAGE', `nats authorization: user ${JSON.stringify(u.user)} or its password holds characters a config file cannot take`);
    if (names.has(u.user)) throw new SplitnetError('E_USAGE', `nats authorization: user ${u.user} twice`);
    names.add(u.user);
    for (const subject of [...u.publish, ...u.subscribe]) {
      const problem = subjectProblem(subject, true);
      if (problem !== undefined) throw new SplitnetError('E_USAGE', `nats authorization: user ${u.user}: subject '${subject}' ${problem}`);
    }
    if (u.comment !== undefined) for (const c of u.comment.split('\n')) lines.push(`${indent}    # ${c}`);
    lines.push(`${indent}    {`);
    lines.push(`${indent}      user: "${u.user}", password: "${u.password}"`);
    lines.push(`${indent}      permissions: {`);
    lines.push(`${indent}        publish: ${allowed(u.publish)}`);
    lines.push(`${indent}        subscribe: ${allowed(u.subscribe)}`);
    if (u.allowResponses === true) lines.push(`${indent}        allow_responses: true`);
    lines.push(`${indent}      }`);
    lines.push(`${indent}    }`);
  }
  lines.push(`${indent}  ]`, `${indent}}`);
  return lines.join('\n') + '\n';
}
