/**
 * Per-domain quotas (reference §7): the C daemon's names, defaults and error codes. They bind
 * unprivileged domains only; dom0 and every Unix-socket connection are exempt. A value of 0
 * disables a quota, and a quota of N allows exactly N (the 1001st node fails, not the 1000th).
 *
 * | name              | default   | checked                                             | error    |
 * |-------------------|-----------|-----------------------------------------------------|----------|
 * | nodes             | 1000      | creating nodes (also when a commit replays)         | ENOSPC   |
 * | watches           | 128       | WATCH (all connections of the domain together)      | ENOSPC   |
 * | outstanding       | 20        | replies not yet taken by the transport: input waits | stall    |
 * | memory            | 2621440   | nodes + watches + transactions + queued output      | ENOMEM / stall / events dropped |
 * | soft-memory       | 2097152   | the same sum: a warning in the log, once            | –        |
 * | transactions      | 10        | TRANSACTION_START                                   | ENOSPC   |
 * | transaction-nodes | 1024      | nodes one transaction touched                       | ENOSPC, then ENOMEM at commit |
 * | node-permissions  | 5         | SET_PERMS entries                                   | ENOSPC   |
 * | path-max          | 2048      | the path after /local/domain/<n>/ (at most 2048)    | EINVAL   |
 * | node-size         | 2048      | a node record: 16 + 8 × entries + value + child names | ENOSPC |
 */

export const QUOTA_NAMES = [
  'nodes',
  'watches',
  'outstanding',
  'memory',
  'soft-memory',
  'transactions',
  'transaction-nodes',
  'node-permissions',
  'path-max',
  'node-size',
] as const;

export type QuotaName = (typeof QUOTA_NAMES)[number];

export const QUOTA_DEFAULTS: Readonly<Record<QuotaName, number>> = {
  nodes: 1000,
  watches: 128,
  outstanding: 20,
  memory: 2_621_440,
  'soft-memory': 2_097_152,
  transactions: 10,
  'transaction-nodes': 1024,
  'node-permissions': 5,
  'path-max': 2048,
  'node-size': 2048,
};

export const QUOTA_HELP: Readonly<Record<QuotaName, string>> = {
  nodes: 'Nodes owned by a domain',
  watches: 'Watches of a domain',
  outstanding: 'Requests of a connection whose replies wait',
  memory: 'Bytes of a domain: nodes, watches, transactions, queued output',
  'soft-memory': 'Bytes of a domain before a warning is logged',
  transactions: 'Open transactions of a domain',
  'transaction-nodes': 'Nodes one transaction may touch',
  'node-permissions': 'Entries of one permission list',
  'path-max': 'Length of a path below the domain home',
  'node-size': 'Bytes of one node record',
};

/** The largest path-max: the protocol's own limit (XENSTORE_REL_PATH_MAX). */
const PATH_MAX_CAP = 2048;

/** A quota name, with `permissions` (xenstore.txt's spelling) as an alias. */
export function quotaName(s: string): QuotaName | null {
  if (s === 'permissions') return 'node-permissions';
  return (QUOTA_NAMES as readonly string[]).includes(s) ? (s as QuotaName) : null;
}

/** A quota value: a decimal number 0..2^31-1, or null. */
export function quotaValue(s: string): number | null {
  if (!/^[0-9]{1,10}$/.test(s)) return null;
  const v = Number(s);
  return v <= 0x7fffffff ? v : null;
}

/** Parses `NAME=VALUE` (the `--quota` option). */
export function parseQuotaSetting(s: string): { name: QuotaName; value: number } | null {
  const eq = s.indexOf('=');
  if (eq < 0) return null;
  const name = quotaName(s.slice(0, eq));
  const value = quotaValue(s.slice(eq + 1));
  return name === null || value === null ? null : { name, value };
}

/** A table of quota values: the daemon-wide defaults, or one domain's own settings on top. */
export class QuotaTable {
  private readonly values = new Map<QuotaName, number>();

  constructor(private readonly parent: QuotaTable | null) {}

  get(name: QuotaName): number {
    const v = this.values.get(name) ?? (this.parent !== null ? this.parent.get(name) : QUOTA_DEFAULTS[name]);
    return name === 'path-max' && (v === 0 || v > PATH_MAX_CAP) ? PATH_MAX_CAP : v;
  }

  set(name: QuotaName, value: number): void {
    this.values.set(name, value);
  }
}
