/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Evaluates Kubernetes NetworkPolicies for egress, as the API defines them
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/): a pod that no
 * policy with Egress in its policyTypes selects may connect anywhere; a pod that some do may
 * connect only where one egress rule of one of them allows (the union). A rule allows a
 * destination when one of its `to` peers matches it (no `to`: every destination) and one of its
 * ports matches (no `ports`: every port). A peer's podSelector alone means pods of the policy's
 * namespace; namespaceSelector alone, every pod of the matching namespaces; both, the matching
 * pods of the matching namespaces; ipBlock, addresses in the CIDR but not in `except` (the
 * tests treat ipBlock as matching only destinations given by address, as pod traffic is usually
 * not matched by ipBlock). Named ports match the destination's port name.
 */

export interface Pod {
  namespace: string;
  labels: Record<string, string>;
}

export interface Destination {
  /** A pod (with the labels of its namespace), or an address outside the cluster's pods. */
  pod?: Pod & { namespaceLabels?: Record<string, string> };
  ip?: string;
  port: number;
  /** The destination container port's name, for named ports. */
  portName?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Policy {
  metadata: { name: string; namespace?: string };
  spec: any;
}

function matchesSelector(selector: any, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}

/** An IPv4 or IPv6 address as a 128-bit number (IPv4 as ::ffff:a.b.c.d) and its family. */
export function parseIp(ip: string): { value: bigint; v4: boolean } {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) throw new Error(`bad IPv4 address ${ip}`);
    return {
      value: (0xffffn << 32n) | BigInt(((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!),
      v4: true,
    };
  }
  if (!/^[0-9A-Fa-f:]+$/.test(ip) || (ip.match(/::/g) ?? []).length > 1) throw new Error(`bad IP address ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g)))
    throw new Error(`bad IPv6 address ${ip}`);
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), v4: false };
}

/** A CIDR network (or a single address) as [first, last] in the 128-bit space. */
export function parseCidr(cidr: string): { first: bigint; last: bigint; v4: boolean; prefix: number } {
  const [addr, len] = cidr.split('/');
  const { value, v4 } = parseIp(addr!);
  const bits = v4 ? 32 : 128;
  const prefix = len === undefined ? bits : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new Error(`bad prefix length in ${cidr}`);
  const host = (1n << BigInt(bits - prefix)) - 1n;
  const first = value & ~host;
  return { first, last: first | host, v4, prefix };
}

/** Whether network `inner` lies inside network `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
  const a = parseCidr(inner);
  const b = parseCidr(outer);
  return a.first >= b.first && a.last <= b.last;
}

function peerMatches(peer: any, policyNamespace: string, d: Destination): boolean {
  if (peer.ipBlock) {
    if (!d.ip) return false;
    if (!cidrWithin(d.ip, peer.ipBlock.cidr)) return false;
    return !(peer.ipBlock.except ?? []).some((e: string) => cidrWithin(d.ip!, e));
  }
  if (!d.pod) return false;
  if (peer.namespaceSelector) {
    if (
      !matchesSelector(peer.namespaceSelector, {
        'kubernetes.io/metadata.name': d.pod.namespace,
        ...(d.pod.namespaceLabels ?? {}),
      })
    )
      return false;
  } else if (d.pod.namespace !== policyNamespace) return false;
  return matchesSelector(peer.podSelector, d.pod.labels);
}

function portMatches(p: any, d: Destination): boolean {
  if ((p.protocol ?? 'TCP') !== (d.protocol ?? 'TCP')) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'string') return p.port === d.portName;
  return p.endPort !== undefined ? d.port >= p.port && d.port <= p.endPort : d.port === p.port;
}

/**
 * Whether `source` may open a connection to `d` under `policies` (each with its namespace, default `defaultNamespace`).
 */
export function egressAllowed(
  policies: Policy[],
  source: Pod,
  d: Destination,
  defaultNamespace = source.namespace,
): boolean {
  const selecting = policies.filter((p) => {
    const ns = p.metadata.namespace ?? defaultNamespace;
    const types: string[] = p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
    return ns === source.namespace && types.includes('Egress') && matchesSelector(p.spec.podSelector, source.labels);
  });
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.egress ?? []).some((rule: any) => {
      const ns = p.metadata.namespace ?? defaultNamespace;
      const toOk = !rule.to || rule.to.length === 0 || rule.to.some((peer: any) => peerMatches(peer, ns, d));
      const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((port: any) => portMatches(port, d));
      return toOk && portOk;
    }),
  );
}
