// The address of this machine on a local Docker engine's default bridge, found without relying on IPAM's Gateway field.
import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

/** The parts of `docker network inspect bridge` this reads. */
export interface BridgeInspect {
  readonly Options?: Readonly<Record<string, string>>;
  readonly IPAM?: { readonly Config?: readonly { readonly Subnet?: string; readonly Gateway?: string }[] | null } | null;
}

export type Interfaces = Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>;

/** Docker names its default bridge's interface docker0 unless the daemon was told otherwise (`--bridge`). */
const DEFAULT_BRIDGE_INTERFACE = 'docker0';

/**
 * The IPv4 address of this host on the engine's default bridge, as containers of that engine reach it:
 * 1. the `Gateway` of the bridge's IPAM config, when the engine reports one (newer engines do);
 * 2. else the address of the bridge's interface on this machine (`com.docker.network.bridge.name`,
 *    docker0 by default) — a freshly started Debian docker.io 20.10 engine reports `Subnet` only;
 * 3. else the subnet's first host, the address Docker itself gives the bridge when none is configured.
 * `interfaces` are this machine's (os.networkInterfaces()): only meaningful for an engine on this machine.
 * Returns undefined when the bridge has no IPv4 subnet at all.
 */
export function bridgeAddress(bridge: BridgeInspect | null, interfaces: Interfaces): string | undefined {
  if (bridge === null) return undefined;
  const configs = bridge.IPAM?.Config ?? [];
  const gateway = configs.find((c) => c.Gateway !== undefined && isIP(c.Gateway) === 4)?.Gateway;
  if (gateway !== undefined) return gateway;
  const name = bridge.Options?.['com.docker.network.bridge.name'] ?? DEFAULT_BRIDGE_INTERFACE;
  const onInterface = interfaces[name]?.find((a) => a.family === 'IPv4')?.address;
  if (onInterface !== undefined) return onInterface;
  for (const c of configs) {
    const first = firstHost(c.Subnet);
    if (first !== undefined) return first;
  }
  return undefined;
}

/** The first host address of an IPv4 CIDR (`172.17.0.0/16` → `172.17.0.1`); undefined for anything else. */
export function firstHost(cidr: string | undefined): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr ?? '');
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 30) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const network = bits === 0 ? 0 : address - (address % 2 ** (32 - bits));
  const host = network + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(host / 2 ** shift) % 256).join('.');
}
