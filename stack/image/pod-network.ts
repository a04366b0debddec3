import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace wired to the host by a veth pair, as a pod's network would be: the host
 * end is the gateway (10.203.0.1/30, where the local stack's Kafka advertises its POD listener),
 * the container end holds 10.203.0.2/30, and loopback is up inside. Nothing else is routed.
 */
export interface PodNetwork {
  /** Namespace name (`ip netns`), and its path for runc's `linux.namespaces`. */
  readonly name: string;
  readonly path: string;
  readonly hostInterface: string;
  readonly gateway: string;
  readonly address: string;
}

export const podNetworkDefaults = Object.freeze({ name: 'aiops-pod', gateway: '10.203.0.1', address: '10.203.0.2', prefix: 30 });

async function ip(args: readonly string[]): Promise<string> {
  const { stdout } = await run('ip', args);
  return stdout;
}

/** Removes the namespace and the veth pair if they exist (also what a failed run left behind). */
export async function removePodNetwork(name: string = podNetworkDefaults.name): Promise<void> {
  const host = `${name}-h`.slice(0, 15);
  await ip(['link', 'del', host]).catch(() => undefined);
  if (existsSync(`/var/run/netns/${name}`)) await ip(['netns', 'del', name]).catch(() => undefined);
}

/** Makes the namespace and the veth pair anew (leftovers removed first). Needs root. */
export async function createPodNetwork(options: { name?: string; gateway?: string; address?: string } = {}): Promise<PodNetwork> {
  const name = options.name ?? podNetworkDefaults.name;
  const gateway = options.gateway ?? podNetworkDefaults.gateway;
  const address = options.address ?? podNetworkDefaults.address;
  const host = `${name}-h`.slice(0, 15);
  const peer = `${name}-c`.slice(0, 15);
  await removePodNetwork(name);
  const taken = await ip(['-o', '-4', 'addr', 'show']);
  const holder = taken.split('\n').find((l) => l.includes(` ${gateway}/`));
  if (holder) throw new Error(`${gateway} is already on another interface (${holder.trim().split(/\s+/)[1] ?? '?'}); remove it first`);
  await ip(['netns', 'add', name]);
  try {
    await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    await ip(['link', 'set', peer, 'netns', name]);
    await ip(['addr', 'add', `${gateway}/${podNetworkDefaults.prefix}`, 'dev', host]);
    await ip(['link', 'set', host, 'up']);
    await ip(['-n', name, 'link', 'set', peer, 'name', 'eth0']);
    await ip(['-n', name, 'addr', 'add', `${address}/${podNetworkDefaults.prefix}`, 'dev', 'eth0']);
    await ip(['-n', name, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await removePodNetwork(name);
    throw error;
  }
  return { name, path: `/var/run/netns/${name}`, hostInterface: host, gateway, address };
}
