import { FEATURE_DOMID_ANY, FEATURE_ERROR, FEATURE_WATCHDEPTH } from '../wire/constants.js';

/**
 * The protocol levels xsgit speaks, one row per C daemon release it answers as. Everything
 * that differs between levels is a field here, read by the request table (server/requests.ts)
 * and the handlers; nothing else branches on a version. `docs/decisions.md` has the table in
 * prose, with the xen.git sources of each row.
 */
export interface Protocol {
  /** The Xen release whose C daemon this level answers as. */
  readonly name: ProtocolName;
  /** GET_FEATURE / SET_FEATURE are served (C ≥ 4.21), else ENOSYS. */
  readonly features: boolean;
  /** GET_QUOTA / SET_QUOTA are served (C ≥ 4.22), else ENOSYS. */
  readonly quotas: boolean;
  /** Domid arguments are parsed as C 4.22's parse_domid() does (strtoul base 10, the whole
   *  string, ≤ 65535, else EINVAL); else like C's atoi, as 4.17–4.21 read most of them. */
  readonly strictDomids: boolean;
  /** `@introduceDomain` / `@releaseDomain` are nodes (C ≥ 4.18): GET_PERMS answers their
   *  list, and SET_PERMS on them is a change like any other: transactional, and their
   *  watchers get an event. At 4.17 GET_PERMS is EINVAL and SET_PERMS fires nothing. */
  readonly specialNodes: boolean;
  /** Paths as C ≥ 4.18 checks them (canonicalize): only the `path-max` quota limits their
   *  length (dom0 has none), and UNWATCH validates its path (EINVAL). At 4.17 every path is
   *  limited to XENSTORE_REL_PATH_MAX after `/local/domain/<n>/`, and UNWATCH validates
   *  nothing. */
  readonly quotaPaths: boolean;
  /** The watch quota as C 4.17–4.21 apply it: a domain already past the quota gets E2BIG
   *  (so one more watch than the quota is let through). C 4.22: ENOSPC at the quota. */
  readonly watchQuotaE2big: boolean;
  /** The features a domain has unless SET_FEATURE masked them before INTRODUCE, and that
   *  dom0 is told by GET_FEATURE (xs_wire.h XENSTORE_SERVER_FEATURE_*): at 4.22, ERROR,
   *  WATCHDEPTH and DOMID_ANY. WATCHDEPTH gates WATCH's third argument; DOMID_ANY gates
   *  permission entries naming DOMID_ANY (every domain). */
  readonly serverFeatures: number;
  /** `@releaseDomain` starts readable by every domain (`n0 r32757`, C 4.22), else `n0`. */
  readonly releaseDomainForAll: boolean;
}

export type ProtocolName = '4.17' | '4.20' | '4.22';

export const PROTOCOLS: Readonly<Record<ProtocolName, Protocol>> = {
  // Debian 12's C xenstored (`--no-features`): the reference of the differential test.
  '4.17': { name: '4.17', features: false, quotas: false, strictDomids: false, specialNodes: false, quotaPaths: false, watchQuotaE2big: true, serverFeatures: 0, releaseDomainForAll: false },
  // Debian 13's C xenstored: special nodes are nodes; nothing else new on the wire.
  '4.20': { name: '4.20', features: false, quotas: false, strictDomids: false, specialNodes: true, quotaPaths: true, watchQuotaE2big: true, serverFeatures: 0, releaseDomainForAll: false },
  // The C daemon of Xen 4.22 (2026-07), the current release: the default.
  '4.22': {
    name: '4.22',
    features: true,
    quotas: true,
    strictDomids: true,
    specialNodes: true,
    quotaPaths: true,
    watchQuotaE2big: false,
    serverFeatures: FEATURE_ERROR | FEATURE_WATCHDEPTH | FEATURE_DOMID_ANY,
    releaseDomainForAll: true,
  },
};

export const DEFAULT_PROTOCOL: Protocol = PROTOCOLS['4.22'];

/** The row named `name`, or null. */
export function protocolNamed(name: string): Protocol | null {
  return Object.hasOwn(PROTOCOLS, name) ? PROTOCOLS[name as ProtocolName] : null;
}
