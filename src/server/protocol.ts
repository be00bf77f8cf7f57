/**
 * The protocol levels xsgit speaks, one row per C daemon release it matches. Everything that
 * differs between levels is a field here, read by the request table (server/requests.ts) and
 * the handlers; nothing else branches on a version. `docs/decisions.md` lists the rows.
 */
export interface Protocol {
  /** The Xen release whose C daemon this level answers as. */
  readonly name: ProtocolName;
  /** GET_FEATURE / SET_FEATURE are served (else ENOSYS). */
  readonly features: boolean;
  /** GET_QUOTA / SET_QUOTA are served (else ENOSYS). */
  readonly quotas: boolean;
  /** Domids are strict decimals 0..65535 (else read like C's atoi, as 4.17 does). */
  readonly strictDomids: boolean;
  /** GET_PERMS of `@introduceDomain` / `@releaseDomain` answers their list (4.17: EINVAL). */
  readonly specialPerms: boolean;
}

export type ProtocolName = '4.17' | '4.22';

export const PROTOCOLS: Readonly<Record<ProtocolName, Protocol>> = {
  // Debian 12's C xenstored (`--no-features`): the reference of the differential test.
  '4.17': { name: '4.17', features: false, quotas: false, strictDomids: false, specialPerms: false },
  // The C daemon of Xen 4.22 (the current release): the default.
  '4.22': { name: '4.22', features: true, quotas: true, strictDomids: true, specialPerms: true },
};

export const DEFAULT_PROTOCOL: Protocol = PROTOCOLS['4.22'];
