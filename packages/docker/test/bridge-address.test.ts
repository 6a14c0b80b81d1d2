// How the docker placement finds this host's address on a local engine's default bridge, with and without IPAM's Gateway.
import test from 'ava';
import type { NetworkInterfaceInfo } from 'node:os';
import { bridgeAddress, firstHost, type BridgeInspect } from '../src/bridge-address.js';

function v4(address: string): NetworkInterfaceInfo {
  return { address, netmask: '255.255.0.0', family: 'IPv4', mac: '02:42:00:00:00:00', internal: false, cidr: `${address}/16` };
}
function v6(address: string): NetworkInterfaceInfo {
  return { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:42:00:00:00:00', internal: false, cidr: `${address}/64`, scopeid: 0 };
}

// `docker network inspect bridge` of a freshly started Debian docker.io 20.10 engine: a subnet, no Gateway field.
const fresh: BridgeInspect = { Options: { 'com.docker.network.bridge.name': 'docker0' }, IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } };

const cases: { title: string; bridge: BridgeInspect | null; interfaces: Record<string, NetworkInterfaceInfo[]>; want: string | undefined }[] = [
  { title: 'the Gateway IPAM reports comes first', bridge: { IPAM: { Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.9' }] } }, interfaces: { docker0: [v4('172.17.0.1')] }, want: '172.17.0.9' },
  { title: 'a fresh engine without Gateway: the bridge interface address', bridge: fresh, interfaces: { lo: [v4('127.0.0.1')], docker0: [v6('fe80::1'), v4('172.17.0.1')] }, want: '172.17.0.1' },
  { title: 'a bridge renamed by the daemon: that interface, not docker0', bridge: { Options: { 'com.docker.network.bridge.name': 'br-lab' }, IPAM: { Config: [{ Subnet: '10.99.0.0/24' }] } }, interfaces: { docker0: [v4('172.17.0.1')], 'br-lab': [v4('10.99.0.1')] }, want: '10.99.0.1' },
  { title: 'no interface seen (engine elsewhere): the subnet first host', bridge: fresh, interfaces: {}, want: '172.17.0.1' },
  { title: 'an IPv6-only Gateway is passed over for the IPv4 subnet', bridge: { IPAM: { Config: [{ Subnet: 'fd00::/64', Gateway: 'fd00::1' }, { Subnet: '192.168.5.0/24' }] } }, interfaces: {}, want: '192.168.5.1' },
  { title: 'no IPv4 subnet at all: nothing', bridge: { IPAM: { Config: [{ Subnet: 'fd00::/64' }] } }, interfaces: {}, want: undefined },
  { title: 'an IPAM without Config: nothing', bridge: { IPAM: { Config: null } }, interfaces: {}, want: undefined },
  { title: 'no bridge network: nothing', bridge: null, interfaces: { docker0: [v4('172.17.0.1')] }, want: undefined },
];

for (const c of cases) {
  test(`bridge address - ${c.title}`, (t) => {
    t.is(bridgeAddress(c.bridge, c.interfaces), c.want);
  });
}

test('bridge address - the first host of a CIDR is the network address plus one, whatever host bits are given', (t) => {
  t.is(firstHost('172.17.0.0/16'), '172.17.0.1');
  t.is(firstHost('172.17.5.7/16'), '172.17.0.1');
  t.is(firstHost('10.0.0.128/25'), '10.0.0.129');
  t.is(firstHost('0.0.0.0/0'), '0.0.0.1');
  t.is(firstHost('10.0.0.0/31'), undefined);
  t.is(firstHost('300.0.0.0/8'), undefined);
  t.is(firstHost('fd00::/64'), undefined);
  t.is(firstHost(undefined), undefined);
});
