// Who may publish and subscribe what on a run's NATS: the controller, each actor process and the roles' join logins, as NATS users of a run or of a deployment.
import { createHmac, randomBytes } from 'node:crypto';
import { busPeersOf, roleOf } from '@splitnet/model';
import { hostPrefixOf } from '@splitnet/controller';
import type { DatapathRole } from '@splitnet/model';
import { renderAuthorization, Subjects } from '@splitnet/transport';
import type { NatsUser } from '@splitnet/transport';
import type { NatsLogin } from './placement.js';

/** What one NATS user may do (NatsUser without its password). */
export interface BusPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  readonly allowResponses: boolean;
}

/** The roles that join a run from elsewhere (compose, other hosts, the docker placement's containers), and a lockstep run's partitions. */
export const JOIN_LOGIN_ROLES = ['driver', 'worker', 'frontend', 'partition'] as const;

/** Where a user's request replies arrive: a prefix no other user may subscribe to. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX.${user}`;
}

/**
 * The NATS user of the process hosting `ids`: `sn-driver` (NIC + back end), `sn-dom0` (the whole driver
 * domain: NIC, back end and the vRSS workers), `sn-worker-<k>`, `sn-vm-<v>`; in a multi-host run the same with the
 * host (`sn-h<i>-driver`, `sn-h<i>-dom0`, `sn-h<i>-worker-<k>`, `sn-h<i>-vm-<v>`: a live run's processes), a whole
 * host's `sn-h<i>` (its NIC and its guests: a lockstep run's partition of host i, first its NIC `h<i>.nic`), and
 * `sn-switch` (a live run's switch, a process of its own).
 */
export function natsUserOf(ids: readonly string[]): string {
  // A host's process in a multi-host run: its host's user name of the same process, `sn-h<i>-…` (`sn-h1-vm-0`); a
  // process of a whole host (a lockstep partition: its NIC and its guests), `sn-h<i>`.
  const host = hostPrefixOf(ids[0] ?? '');
  if (host !== '' && ids.some((id) => roleOf(id) === 'frontend') && ids.some((id) => roleOf(id) === 'nic')) return `sn-${host.slice(0, -1)}`;
  if (host !== '') return `sn-${host.slice(0, -1)}-${natsUserOf(ids.map((id) => (id.startsWith(host) ? id.slice(host.length) : id))).slice('sn-'.length)}`;
  if (ids.includes('nic')) return ids.some((id) => roleOf(id) === 'worker') ? 'sn-dom0' : 'sn-driver';
  return `sn-${(ids[0] ?? '').replace('.', '-')}`;
}

/** Whether `ids` hold every actor of `role`: the driver domain's process (one host's, or a host's partition) holds the back end and every worker. */
function hostsAll(ids: readonly string[], role: DatapathRole): boolean {
  return role === 'worker' && ids.some((id) => roleOf(id) === 'backend');
}

/** Every actor of a role, as a permission pattern. */
const EVERY: Record<DatapathRole, string> = { nic: 'nic', backend: 'backend', worker: 'worker.*', frontend: 'vm.*', switch: 'switch' };

/**
 * What the process hosting `ids` may do in run `run` (a run id, or `*` in a deployment's file; `ids` may be
 * patterns such as `worker.*`): publish its actors' messages on the data subjects that name them as sender,
 * to the roles they send to over the bus (MESSAGE_ROUTES), and its hello, stats and heartbeats; subscribe to
 * what is sent to its actors and to its own control subject. And join requests (a restarted container asks
 * the controller for the scenario) with their replies on its own reply prefix.
 */
export function processPermissions(run: string, ids: readonly string[], user: string): BusPermissions {
  const p = Subjects.patterns(run);
  const here = new Set(ids.map(roleOf));
  const first = ids[0] as string;
  const publish: string[] = [];
  for (const id of ids) {
    const role = roleOf(id);
    if (role === undefined) continue;
    // A role some of whose actors this process hosts has them all here (NIC + back end; the driver domain): no bus in
    // between. Not so for a role's own peers (a worker's dealloc to another worker): one process per actor splits them.
    // A multi-host run's actors send within their own host (`h1.worker.*`); between hosts only through the switch (below).
    const host = hostPrefixOf(id);
    for (const peer of busPeersOf(role)) if (!here.has(peer) || (peer === role && !hostsAll(ids, role))) publish.push(p.data(`${host}${EVERY[peer]}`, id));
  }
  // The fabric (a multi-host run's live processes, and its lockstep partitions per host): a host's NIC sends to the switch, the switch to every host's NIC.
  for (const id of ids) {
    if (roleOf(id) === 'nic' && id !== 'nic' && !ids.includes('switch')) publish.push(p.data('switch', id));
    if (id === 'switch') publish.push(p.data('*.nic', id));
  }
  publish.push(p.hello(first), p.stats(first), p.heartbeat(first), p.join());
  return { publish, subscribe: [...ids.map((id) => p.dataInbox(id)), p.control(first), `${inboxPrefixOf(user)}.>`], allowResponses: false };
}

/**
 * The multi-host processes a configuration has: `partitions`, whole hosts (a lockstep run's per host, `sn-h<i>`);
 * `processes`, a live run's per-host processes and its switch (`sn-h<i>-…`, `sn-switch`); undefined, none.
 */
export type HostProcesses = 'partitions' | 'processes' | undefined;

/** Which multi-host processes `processes` (each one's actor ids) are, if any (HostProcesses). */
function hostProcessesOf(processes: readonly (readonly string[])[]): HostProcesses {
  if (processes.some((ids) => /^sn-(h[0-9]+-|switch$)/.test(natsUserOf(ids)))) return 'processes';
  return processes.some((ids) => ids.some((id) => hostPrefixOf(id) !== '')) ? 'partitions' : undefined;
}

/**
 * What the controller may do: send each process its control messages and claim the run id; hear hellos,
 * stats, heartbeats, joins and `splitnet fault` requests, and answer requests. No data subject at all: the
 * controller never takes part in the datapath.
 */
export function controllerPermissions(run: string, user: string, hosts?: HostProcesses): BusPermissions {
  const p = Subjects.patterns(run);
  // The first actor of each process the configuration may have. `partitions`: besides one host's, '*.nic' (a
  // multi-host lockstep partition's first actor is its host's NIC, h<i>.nic). `processes`: a multi-host live run's
  // instead, every host's (h<i>.nic, h<i>.worker.<k>, h<i>.vm.<v>) and the switch (a process of its own there).
  const firsts =
    hosts === 'processes' ? ['*.nic', '*.worker.*', '*.vm.*', 'switch'] : ['nic', 'worker.*', 'vm.*', ...(hosts === 'partitions' ? ['*.nic'] : [])];
  const controls = firsts.map((a) => p.control(a));
  return {
    publish: [...controls, p.claim()],
    subscribe: [p.helloAll(), p.statsAll(), p.heartbeatAll(), p.join(), p.control('controller'), p.claim(), `${inboxPrefixOf(user)}.>`],
    allowResponses: true,
  };
}

/** A role's join login: a join request and its reply, nothing else (the reply hands the process its own login). */
export function joinPermissions(run: string, user: string): BusPermissions {
  return { publish: [Subjects.patterns(run).join()], subscribe: [`${inboxPrefixOf(user)}.>`], allowResponses: false };
}

/** A random password (24 bytes, base64url). */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The password of a process's user in a deployment's file, derived from the controller's password (what
 * `splitnet nats-config` writes): the controller hands each process that joins its own login without any
 * list of passwords, and whoever has only a role's join login cannot work out another's.
 */
export function derivedPassword(controllerPassword: string, user: string): string {
  return createHmac('sha256', controllerPassword).update(`splitnet nats user ${user}`).digest('base64url').slice(0, 32);
}

/** A process's login: its user, a password, its reply prefix. */
export function loginOf(ids: readonly string[], password: (user: string) => string): NatsLogin {
  const user = natsUserOf(ids);
  return { user, pass: password(user), inboxPrefix: inboxPrefixOf(user) };
}

/** `perms` as a NatsUser of the authorization block. */
export function natsUser(user: string, password: string, perms: BusPermissions, comment?: string): NatsUser {
  return {
    user,
    password,
    publish: perms.publish,
    subscribe: perms.subscribe,
    allowResponses: perms.allowResponses,
    ...(comment !== undefined ? { comment } : {}),
  };
}

/** The users of a NATS authorization block for run `run` (or `*`), and the logins they make. */
export interface BusUsers {
  readonly users: readonly NatsUser[];
  readonly controller: NatsLogin;
  /** The login of the process hosting `ids` (derived from the controller's password: see derivedPassword). */
  readonly loginOf: (ids: readonly string[]) => NatsLogin;
  /** The roles' join logins, when there are any. */
  readonly joins: ReadonlyMap<string, NatsLogin>;
}

/**
 * The NATS users of a run (or, with run `*`, of a deployment): the controller with `controllerPass`, one user
 * per process of `processes` (their actor ids; patterns such as `worker.*` in a deployment's file) with a
 * password derived from the controller's, and the roles' join logins with `joinPass` (none without it).
 */
export function busUsers(run: string, controllerPass: string, processes: readonly (readonly string[])[], joinPass?: (role: string) => string): BusUsers {
  const controller: NatsLogin = { user: 'controller', pass: controllerPass, inboxPrefix: inboxPrefixOf('controller') };
  const login = (ids: readonly string[]) => loginOf(ids, (u) => derivedPassword(controllerPass, u));
  const joins = new Map<string, NatsLogin>();
  if (joinPass) for (const role of JOIN_LOGIN_ROLES) joins.set(role, { user: role, pass: joinPass(role), inboxPrefix: inboxPrefixOf(role) });
  const users: NatsUser[] = [
    natsUser(
      controller.user,
      controller.pass,
      controllerPermissions(run, controller.user, hostProcessesOf(processes)),
      'The controller: control of every process, hellos, stats, heartbeats, joins and fault requests; no data subject.',
    ),
  ];
  for (const [role, l] of joins)
    users.push(
      natsUser(
        l.user,
        l.pass,
        joinPermissions(run, l.user),
        `The join login of a ${role}: a join request and its reply only; the reply hands the process its own login.`,
      ),
    );
  for (const ids of processes) {
    const l = login(ids);
    users.push(natsUser(l.user, l.pass, processPermissions(run, ids, l.user), `The process hosting ${ids.join(', ')}.`));
  }
  return { users, controller, loginOf: login, joins };
}

/**
 * The processes a run or deployment may have, as actor-id lists: the driver (NIC + back end, or with `perDomain`
 * the whole driver domain), `workers` workers and `vms` guests. `perDomain: 'both'`: both driver users, the
 * domain's workers as the pattern `worker.*` (a deployment's file, which does not know the run's grouping).
 */
export function processSlots(workers: number, vms: number, perDomain: boolean | 'both'): string[][] {
  const workerIds = Array.from({ length: workers }, (_, k) => `worker.${k}`);
  const drivers =
    perDomain === 'both'
      ? [
          ['nic', 'backend'],
          ['nic', 'backend', 'worker.*'],
        ]
      : perDomain
        ? [['nic', 'backend', ...workerIds]]
        : [['nic', 'backend']];
  return [...drivers, ...(perDomain === true ? [] : workerIds.map((id) => [id])), ...Array.from({ length: vms }, (_, v) => [`vm.${v}`])];
}

/**
 * The lockstep partitions of a multi-host run a deployment's file has users for, as actor-id lists: host i's NIC,
 * back end, workers and guests (patterns), the switch with host 0 (as packages/lockstep's partition plan puts it).
 */
export function hostPartitionSlots(hosts: number): string[][] {
  return Array.from({ length: hosts }, (_, i) => [`h${i}.nic`, `h${i}.backend`, `h${i}.worker.*`, `h${i}.vm.*`, ...(i === 0 ? ['switch'] : [])]);
}

/** The passwords a deployment's file is written with (docs/security.md: change them for anything but a local experiment). */
export interface DeploymentPasswords {
  /** The controller's; every process's own password is derived from it (derivedPassword). */
  readonly controller: string;
  /** Each role's join login. */
  readonly driver: string;
  readonly worker: string;
  readonly frontend: string;
  /** A lockstep run's partition that joins (compose's `partition` service). */
  readonly partition: string;
}

/** The development passwords deploy/nats.conf is written with. */
export const DEV_PASSWORDS: DeploymentPasswords = {
  controller: 'splitnet-controller-dev',
  driver: 'splitnet-driver-dev',
  worker: 'splitnet-worker-dev',
  frontend: 'splitnet-frontend-dev',
  partition: 'splitnet-partition-dev',
};

/**
 * The NATS authorization file of a deployment (compose, a swarm stack, hosts of your own: deploy/nats.conf is
 * this with DEV_PASSWORDS, 16 workers, 16 VMs and 16 hosts): the controller, each role's join login, and a user
 * for every process that may join — the driver (as NIC + back end, or as the whole driver domain), `workers`
 * workers, `vms` VMs, and a multi-host lockstep run's partition per host for `hosts` hosts — each allowed only its
 * own subjects of any run.
 */
export function deploymentConfig(passwords: DeploymentPasswords, workers: number, vms: number, hosts = 16): string {
  const processes = [...processSlots(workers, vms, 'both'), ...hostPartitionSlots(hosts)];
  const u = busUsers('*', passwords.controller, processes, (role) => passwords[role as keyof DeploymentPasswords]);
  return [
    '# NATS authorization for a splitnet deployment (compose, a swarm stack, your own hosts), written by',
    `# \`splitnet nats-config --workers ${workers} --vms ${vms} --hosts ${hosts}\`: do not edit it by hand, write it again (deploy/README.md).`,
    '#',
    '# Who may do what (docs/security.md has the table, which a test checks against this file):',
    '# - the controller: control of every process, hellos, stats, heartbeats, joins, fault requests; no data;',
    "# - driver, worker, frontend, partition (a lockstep run's): the roles' join logins, which may only ask to join; the",
    "#   controller answers with the process's own login (below), sealed to the joiner, so one container cannot read another's;",
    '# - sn-driver / sn-dom0, sn-worker-<k>, sn-vm-<v>: one user per process, which may publish only the messages its',
    '#   actors send in the datapath (the subject names the sender: sn.<run>.<to>.from.<from>) and read only its own;',
    "# - sn-h<i>: a multi-host lockstep run's partition of host i (the switch with h0), which may send only frames onto the fabric.",
    "# Their passwords are derived from the controller's, which is how the controller hands them out.",
    '#',
    '# CHANGE THE PASSWORDS for anything but a local experiment: SPLITNET_CONTROLLER_PASSWORD=… SPLITNET_DRIVER_PASSWORD=…',
    '# SPLITNET_WORKER_PASSWORD=… SPLITNET_FRONTEND_PASSWORD=… SPLITNET_PARTITION_PASSWORD=… splitnet nats-config > nats.conf,',
    '# and give the same variables to compose. TLS: add a `tls { … }` block (nats-tls.conf includes this file).',
    '',
    renderAuthorization(u.users).trimEnd(),
    '',
  ].join('\n');
}
