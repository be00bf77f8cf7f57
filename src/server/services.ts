import type { ErrorName } from '../wire/constants.js';
import type { Caller, ProcessIdentity } from '../store/caller.js';
import type { Store } from '../history/store.js';
import type { WatchIndex } from '../watch/watches.js';
import type { Admission } from '../domain/admission.js';
import type { Domain, Domains } from '../domain/domains.js';
import type { RecentWrites } from '../domain/fairness.js';
import type { SpecialNodes } from '../domain/specials.js';
import type { ControlContext } from '../control/context.js';
import type { Connection } from './connection.js';
import type { Protocol } from './protocol.js';
import type { Edit } from './publish.js';

/**
 * What the request handlers (server/handlers/) may use of the daemon: its state, read
 * through these fields, and the few operations that change it. Every change of the store
 * goes through publish().
 */
export interface Services {
  readonly protocol: Protocol;
  readonly store: Store;
  readonly domains: Domains<Connection>;
  readonly watches: WatchIndex;
  readonly specials: SpecialNodes;
  readonly admission: Admission<Connection>;
  readonly recent: RecentWrites;
  /** What CONTROL commands see (control/context.ts). */
  readonly control: ControlContext;
  /** The one way the store changes (server/publish.ts). */
  publish(who: Caller, edit: Edit): ErrorName | null;
  /** INTRODUCE (reference §4.6). */
  introduceDomain(domid: number, gfn: string, evtchn: number): void;
  /** RELEASE (reference §4.6, XSA-419, XSA-322); `proc`: the process that asked (its commit
   *  names it). */
  releaseDomain(domid: number, proc?: ProcessIdentity | null): void;
  /** SET_TARGET: `dom` acts with the rights of `target` (-1: none). */
  setTarget(dom: Domain<Connection>, target: number): void;
  /** Drops a connection's watches and open transactions (RESET_WATCHES, close). */
  resetConnection(c: Connection): void;
}
