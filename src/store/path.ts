import { REL_PATH_MAX } from '../wire/constants.js';

/**
 * Path rules (reference §3): characters [A-Za-z0-9/_@-], no `//`, no trailing `/`, not empty;
 * relative paths resolve against the caller's home; the length that counts is the part after
 * `/local/domain/<n>/` (so a guest's paths survive a domid change), at most 2048 bytes.
 */

const VALID = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_@-') VALID[c.charCodeAt(0)] = 1;

export function homePath(domid: number): string {
  return `/local/domain/${domid}`;
}

export function isSpecial(path: string): boolean {
  return path.charCodeAt(0) === 64; /* @ */
}

/** The canonical absolute path, or null when the path is invalid (EINVAL). Special `@` paths
 *  come back unchanged; whether an operation accepts them is the caller's business. `limit`:
 *  the longest path allowed after `/local/domain/<n>/` (C 4.17: XENSTORE_REL_PATH_MAX for
 *  everyone; from 4.18 on only the `path-max` quota limits, checked by the caller). */
export function canonicalize(path: string, home: string, limit = REL_PATH_MAX): string | null {
  const n = path.length;
  if (n === 0) return null;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c >= 128 || VALID[c] === 0) return null;
    if (c === 47 && prev === 47) return null;
    prev = c;
  }
  const first = path.charCodeAt(0);
  if (first === 64) return n > limit ? null : path;
  if (prev === 47 && n > 1) return null;
  const abs = first === 47 ? path : `${home}/${path}`;
  return abs.length - localOffset(abs) > limit ? null : abs;
}

/** Length of a leading `/local/domain/<digits>/`, or 0. */
function localOffset(p: string): number {
  const pre = '/local/domain/';
  if (!p.startsWith(pre)) return 0;
  let i = pre.length;
  const d0 = i;
  while (i < p.length && i - d0 < 5 && p.charCodeAt(i) >= 48 && p.charCodeAt(i) <= 57) i++;
  if (i === d0 || p.charCodeAt(i) !== 47) return 0;
  return i + 1;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** True when `path` is `ancestor` or lies below it. */
export function isAtOrBelow(path: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return path.startsWith(ancestor) && (path.length === ancestor.length || path.charCodeAt(ancestor.length) === 47);
}

/** The longest common ancestor of absolute paths, by whole path elements (`/` when they
 *  share nothing or there are none). */
export function commonAncestor(paths: Iterable<string>): string {
  let a: string | null = null;
  for (const p of paths) {
    if (a === null) a = p;
    while (!isAtOrBelow(p, a)) {
      const i = a.lastIndexOf('/');
      a = i <= 0 ? '/' : a.slice(0, i);
    }
  }
  return a ?? '/';
}

/** The path as a client that registered relative to `home` should see it. */
export function relativeTo(path: string, home: string): string {
  return path.length > home.length && path.startsWith(home) && path.charCodeAt(home.length) === 47
    ? path.slice(home.length + 1)
    : path;
}

/** The length the path limits measure: the part after `/local/domain/<n>/`, else all of it. */
export function measuredLength(p: string): number {
  return p.length - localOffset(p);
}
