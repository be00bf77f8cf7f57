import type { Caller } from '../store/caller.js';
import type { Node } from '../store/node.js';
import { DOMID_ANY, FEATURE_DOMID_ANY } from '../wire/constants.js';
import { nodeBytes, silent, type DomainCheck } from '../store/ops.js';
import { baseName } from '../store/path.js';
import { ownerOf } from '../store/perms.js';
import { walkTree } from '../store/walk.js';
import { ConflictCredit } from './fairness.js';
import { QuotaTable, type QuotaName } from './quota.js';

/** What the domain table needs to know of a connection that belongs to a domain. */
export interface DomainConnection {
  readonly id: number;
  target: number;
}

/** What the domain table takes from the protocol level (server/protocol.ts). */
export interface DomainsConfig {
  /** The XENSTORE_SERVER_FEATURE_* bits every domain has unless SET_FEATURE masked them. */
  readonly serverFeatures: number;
}

/** One domain the daemon knows: introduced by the toolstack (or dom0, always there). */
export class Domain<C extends DomainConnection = DomainConnection> {
  /** The domain whose rights this stub domain acts with (SET_TARGET), or -1. */
  target = -1;
  /** Its live connections (guest sockets; later its ring). */
  readonly conns = new Set<C>();
  /** Its own quota settings over the daemon-wide ones (SET_QUOTA <domid>). */
  readonly quota: QuotaTable;
  /** Conflict credit: how often it may still make others' transactions fail (fairness.ts). */
  readonly credit = new ConflictCredit();
  /** Input of its connections waits until then (ms, performance.now()); 0: not throttled. */
  throttledUntil = 0;
  throttleTimer: NodeJS.Timeout | null = null;
  /** The soft-memory warning was logged (reset when usage falls below it). */
  softWarned = false;

  constructor(
    readonly domid: number,
    global: QuotaTable,
  ) {
    this.quota = new QuotaTable(global);
  }
}

/**
 * The domain table and the store's per-domain accounting: which domains exist (INTRODUCE ..
 * RELEASE), the daemon-wide quota defaults, and, for every domid that owns nodes (introduced
 * or not: the toolstack gives a guest its home before it introduces it), how many nodes and
 * bytes it owns. dom0 is exempt from quotas and never counted.
 *
 * As a DomainCheck it applies accounting at once: right for single operations, which check
 * before they change anything. Requests and commits go through a Ledger instead.
 */
export class Domains<C extends DomainConnection = DomainConnection> implements DomainCheck {
  readonly counting = true;
  /** The daemon-wide quotas: the defaults of every domain (SET_QUOTA <name>, --quota). */
  readonly quota = new QuotaTable(null);
  private readonly table = new Map<number, Domain<C>>();
  /** Accounting that counts nothing, with the table's liveness (privileged transactions'
   *  branches, replays that only rebuild a state). */
  readonly uncounted: DomainCheck = silent(this);
  private readonly nodes = new Map<number, number>();
  private readonly bytes = new Map<number, number>();
  /** SET_FEATURE values of domains not introduced yet. */
  private readonly features = new Map<number, number>();

  constructor(private readonly config: DomainsConfig = { serverFeatures: 0 }) {
    this.table.set(0, new Domain<C>(0, this.quota));
  }

  get(domid: number): Domain<C> | undefined {
    return this.table.get(domid);
  }

  /** Whether an ACL entry naming `domid` counts: an introduced domain, or DOMID_ANY (every
   *  domain) where the protocol level has it (C 4.22). */
  isLive(domid: number): boolean {
    return this.table.has(domid) || (domid === DOMID_ANY && (this.config.serverFeatures & FEATURE_DOMID_ANY) !== 0);
  }

  introduce(domid: number): { domain: Domain<C>; fresh: boolean } {
    const old = this.table.get(domid);
    if (old !== undefined) return { domain: old, fresh: false };
    const domain = new Domain<C>(domid, this.quota);
    this.table.set(domid, domain);
    return { domain, fresh: true };
  }

  release(domid: number): boolean {
    const d = this.table.get(domid);
    if (d === undefined) return false;
    if (d.throttleTimer !== null) clearTimeout(d.throttleTimer);
    d.throttleTimer = null;
    this.features.delete(domid);
    return this.table.delete(domid);
  }

  /** A domain's features (GET_FEATURE): what SET_FEATURE set before it was introduced, else
   *  every feature of the protocol level; undefined for a domain neither introduced nor
   *  named by SET_FEATURE. */
  featuresOf(domid: number): number | undefined {
    return this.features.get(domid) ?? (this.isLive(domid) ? this.config.serverFeatures : undefined);
  }

  /** SET_FEATURE of a domain not introduced yet (the handler checks that). */
  setFeatures(domid: number, value: number): void {
    this.features.set(domid, value);
  }

  /** Whether `domid`'s connections may use `feature` (a XENSTORE_SERVER_FEATURE_* bit);
   *  privileged callers always may. */
  hasFeature(domid: number, feature: number): boolean {
    return ((this.featuresOf(domid) ?? this.config.serverFeatures) & feature) !== 0;
  }

  list(): Domain<C>[] {
    return [...this.table.values()];
  }

  /** The value of a quota for a domain (its own setting, else the daemon-wide one). */
  quotaOf(domid: number, name: QuotaName): number {
    return (this.table.get(domid)?.quota ?? this.quota).get(name);
  }

  limit(who: Caller, name: QuotaName): number {
    return who.privileged ? 0 : this.quotaOf(who.domid, name);
  }

  owned(domid: number): number {
    return this.nodes.get(domid) ?? 0;
  }

  /** Bytes of the nodes `domid` owns (part of its `memory`). */
  ownedBytes(domid: number): number {
    return this.bytes.get(domid) ?? 0;
  }

  account(owner: number, nodes: number, bytes: number): void {
    if (owner === 0) return;
    bump(this.nodes, owner, nodes);
    bump(this.bytes, owner, bytes);
  }

  /** Recounts every owner from a whole tree (a store not built by requests). Iterative. */
  recount(root: Node): void {
    this.nodes.clear();
    this.bytes.clear();
    for (const [path, n] of walkTree(root, '/')) this.account(ownerOf(n.perms), 1, nodeBytes(baseName(path), n.value, n.perms));
  }

  /** Owners with nodes, for reports. */
  owners(): number[] {
    return [...this.nodes.keys()];
  }
}

function bump(m: Map<number, number>, k: number, delta: number): void {
  if (delta === 0) return;
  const v = (m.get(k) ?? 0) + delta;
  // Never below zero: a count that would go negative was already gone (XSA-440's lesson).
  if (v <= 0) m.delete(k);
  else m.set(k, v);
}
