import { DOMID_ANY } from '../wire/constants.js';
import { strtol0 } from '../wire/args.js';

/**
 * Permission lists (reference §4). A list is kept in wire form, `"n0\0r5\0"`: entry 0 names
 * the owner and, by its letter, the access of every domain without an entry of its own.
 */

export const PERM_NONE = 0;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_BOTH = 3;
export const PERM_OWNER = 8;

export interface PermEntry {
  readonly access: number;
  readonly domid: number;
}

const LETTER_ACCESS: Record<string, number> = { n: PERM_NONE, r: PERM_READ, w: PERM_WRITE, b: PERM_BOTH };

/** Interned parse results: a store holds few distinct permission lists. */
const parsed = new Map<string, PermEntry[]>();

export function entriesOf(perms: string): PermEntry[] {
  let e = parsed.get(perms);
  if (e !== undefined) return e;
  e = [];
  for (const item of perms.split('\0')) {
    if (item.length === 0) continue;
    e.push({ access: LETTER_ACCESS[item[0]], domid: Number(item.slice(1)) });
  }
  if (parsed.size > 65536) parsed.clear();
  parsed.set(perms, e);
  return e;
}

export function ownerOf(perms: string): number {
  return entriesOf(perms)[0].domid;
}

/** The access an unprivileged domain has (C perm_for_conn); `target` is its SET_TARGET domain
 *  or -1, and `live` says whether an ACL entry's domain still counts (XSA-322 revocation; for
 *  DOMID_ANY, whether the protocol level has it). */
export function accessFor(perms: string, domid: number, target: number, live: { isLive(domid: number): boolean }): number {
  const e = entriesOf(perms);
  const owner = e[0].domid;
  if (owner === domid || owner === target || (owner === DOMID_ANY && live.isLive(owner))) return PERM_READ | PERM_WRITE | PERM_OWNER;
  for (let i = 1; i < e.length; i++) {
    const d = e[i].domid;
    // DOMID_ANY names every domain, where the protocol level has it (C 4.22 perm_allows_conn).
    if ((d === domid || d === target || d === DOMID_ANY) && live.isLive(d)) return e[i].access;
  }
  return e[0].access;
}

/** The perms a newly created child gets: its parent's list, owned by an unprivileged creator. */
export function inheritPerms(parent: string, creator: number, privileged: boolean): string {
  if (privileged) return parent;
  const e = entriesOf(parent);
  if (e[0].domid === creator) return parent;
  const first = parent.indexOf('\0');
  return `${parent[0]}${creator}${parent.slice(first)}`;
}

export type PermsParse = { ok: true; perms: string; entries: PermEntry[] } | { ok: false };

/** Parses SET_PERMS strings as the C daemon does: a letter r|w|b|n and a strtol(…, 0) domid
 *  with nothing after it. */
export function parsePermStrings(items: readonly string[]): PermsParse {
  if (items.length === 0) return { ok: false };
  let text = '';
  const entries: PermEntry[] = [];
  for (const s of items) {
    const access = LETTER_ACCESS[s[0]];
    if (access === undefined || s.length < 2) return { ok: false };
    const n = strtol0(s.slice(1));
    if (!n.ok) return { ok: false };
    // C stores the long in an unsigned int and prints it with %i.
    const domid = Math.abs(n.value) >= 2 ** 53 ? -1 : n.value | 0;
    entries.push({ access, domid });
    text += `${s[0]}${domid}\0`;
  }
  return { ok: true, perms: text, entries };
}

/** The list without the ACL entries (index ≥ 1) that name `domid`, and with entry 0 handed to
 *  dom0 if `domid` owned it; null when nothing names `domid` (a released domain, XSA-322). */
export function withoutDomain(perms: string, domid: number): string | null {
  const e = entriesOf(perms);
  let hit = e[0].domid === domid;
  for (let i = 1; i < e.length && !hit; i++) hit = e[i].domid === domid;
  if (!hit) return null;
  const items = perms.split('\0');
  let out = e[0].domid === domid ? `${items[0][0]}0\0` : `${items[0]}\0`;
  for (let i = 1; i < e.length; i++) if (e[i].domid !== domid) out += `${items[i]}\0`;
  return out;
}
