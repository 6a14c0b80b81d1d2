// `splitnet nats-config`: write the NATS authorization file of a deployment (deploy/nats.conf is its output with the development passwords).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SplitnetError } from '@splitnet/model';
import { deploymentConfig, DEV_PASSWORDS } from '@splitnet/live';
import type { DeploymentPasswords } from '@splitnet/live';

/** The environment variable of each password: the same names deploy/docker-compose.yml and docker-compose.live.yml give their containers. */
const PASSWORD_VARIABLES: Readonly<Record<keyof DeploymentPasswords, string>> = {
  controller: 'SPLITNET_CONTROLLER_PASSWORD',
  driver: 'SPLITNET_DRIVER_PASSWORD',
  worker: 'SPLITNET_WORKER_PASSWORD',
  frontend: 'SPLITNET_FRONTEND_PASSWORD',
  partition: 'SPLITNET_PARTITION_PASSWORD',
};

/** How many workers or VMs a file may have users for. */
const MAX_SLOTS = 1024;

function count(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_SLOTS) throw new SplitnetError('E_USAGE', `${flag}: expected a whole number from 1 to ${MAX_SLOTS}, found "${v}"`);
  return n;
}

/** The file's text, and the variables that were not set (their development passwords were used). */
export function natsConfig(env: NodeJS.ProcessEnv, workers: string, vms: string, hosts = '16'): { text: string; defaults: string[] } {
  const w = count('--workers', workers);
  const v = count('--vms', vms);
  const h = count('--hosts', hosts);
  const defaults: string[] = [];
  const passwords = {} as Record<keyof DeploymentPasswords, string>;
  for (const [k, name] of Object.entries(PASSWORD_VARIABLES) as [keyof DeploymentPasswords, string][]) {
    const given = env[name];
    if (given !== undefined && !/^[A-Za-z0-9._~+/=-]{8,}$/.test(given)) {
      throw new SplitnetError('E_USAGE', `${name}: expected at least 8 characters from letters, digits and . _ ~ + / = - (a NATS config file holds it)`);
    }
    if (given === undefined) defaults.push(name);
    passwords[k] = given ?? DEV_PASSWORDS[k];
  }
  return { text: deploymentConfig(passwords, w, v, h), defaults };
}

export function defineNatsConfigCommand(program: Command): void {
  program
    .command('nats-config')
    .description(
      "Write the NATS authorization file of a deployment: the controller, each role's join login and one user per process, each allowed only its own subjects (docs/security.md)",
    )
    .option('--workers <n>', 'workers that may join (users sn-worker-0…)', '16')
    .option('--vms <n>', 'VMs that may join (users sn-vm-0…)', '16')
    .option('--hosts <n>', 'hosts of a multi-host lockstep run whose partitions may join (users sn-h0…)', '16')
    .option('--out <file>', 'write it to this file (mode 0600) instead of stdout')
    .addHelpText(
      'after',
      `\nEnvironment: ${Object.values(PASSWORD_VARIABLES).join(', ')} (each role's password;\nthe development ones of deploy/nats.conf when unset). Each process's own password is derived from the controller's.\n\nExample:\n  SPLITNET_CONTROLLER_PASSWORD=… SPLITNET_DRIVER_PASSWORD=… SPLITNET_WORKER_PASSWORD=… SPLITNET_FRONTEND_PASSWORD=… \\\n    splitnet nats-config --vms 32 --out deploy/nats.conf`,
    )
    .action((o: { workers: string; vms: string; hosts: string; out?: string }) => {
      const { text, defaults } = natsConfig(process.env, o.workers, o.vms, o.hosts);
      if (o.out === undefined) process.stdout.write(text);
      else writeFileSync(o.out, text, { mode: 0o600 });
      if (defaults.length > 0)
        process.stderr.write(`splitnet: warning: development passwords for ${defaults.join(', ')} (unset): change them for anything but a local experiment\n`);
    });
}
