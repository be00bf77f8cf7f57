import { mkdirSync, readFileSync, readdirSync, rmdirSync, unlinkSync, type Dirent } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidRefError } from '../errors.js';
import { HEX_ID } from '../utils/hashObject.js';

/**
 * Refs of an on-disk repository: loose files under refs/ (and HEAD), then `packed-refs`.
 * Updates are atomic: the new content goes to a temporary file next to the ref, is synced,
 * then renamed over it. The temporary name ends in `.lock`, which git never reads as a ref.
 */

/** git's ref name rules (check-ref-format), for names under refs/ (or HEAD). */
export function isValidRefName(name: string): boolean {
  if (name === 'HEAD') return true;
  if (!name.startsWith('refs/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (name.includes('..') || name.includes('//') || name.includes('@{')) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  for (const part of name.split('/')) if (part.length === 0 || part.startsWith('.') || part.endsWith('.lock')) return false;
  return true;
}

/** A ref's own content: an id, or `ref: <target>` for a symbolic ref; null when absent. */
export function readRefRaw(gitDir: string, name: string): string | null {
  try {
    return readFileSync(join(gitDir, name), 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw e;
  }
  return readPackedRefs(gitDir).get(name) ?? null;
}

/** The refs of `packed-refs` (name → id). */
export function readPackedRefs(gitDir: string): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.startsWith('^') || line.length < 42) continue;
    out.set(line.slice(41), line.slice(0, 40));
  }
  return out;
}

/** Follows symbolic refs; the id a ref finally names, or null. */
export function resolveRef(gitDir: string, name: string): string | null {
  let cur = name;
  for (let depth = 0; depth < 10; depth++) {
    const raw = readRefRaw(gitDir, cur);
    if (raw === null) return null;
    if (!raw.startsWith('ref: ')) return HEX_ID.test(raw) ? raw : null;
    cur = raw.slice(5);
  }
  return null;
}

/** The target of a symbolic ref (HEAD → `refs/heads/main`), or null when it is not symbolic. */
export function symbolicTarget(gitDir: string, name: string): string | null {
  const raw = readRefRaw(gitDir, name);
  return raw !== null && raw.startsWith('ref: ') ? raw.slice(5) : null;
}

/** The full name a short one means, in git's order: as given, refs/, tags, heads. */
export function expandRef(gitDir: string, short: string): string | null {
  for (const full of [short, `refs/${short}`, `refs/tags/${short}`, `refs/heads/${short}`]) {
    if ((full === 'HEAD' || full.startsWith('refs/')) && readRefRaw(gitDir, full) !== null) return full;
  }
  return null;
}

let tmpCounter = 0;

/** Replaces a file atomically: temporary `.lock` file, sync, rename. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.xsgit-${process.pid}-${++tmpCounter}.lock`;
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** Points a ref at an id (creating or force-updating it). */
export async function writeRef(gitDir: string, name: string, id: string): Promise<void> {
  if (!isValidRefName(name)) throw new InvalidRefError(name);
  if (!HEX_ID.test(id)) throw new Error(`writeRef: not an object id: ${id}`);
  await writeAtomic(join(gitDir, name), `${id}\n`);
}

/** Removes a ref (loose and packed); removes directories it leaves empty under refs/. */
export async function deleteRef(gitDir: string, name: string): Promise<void> {
  if (!isValidRefName(name) || name === 'HEAD') throw new InvalidRefError(name);
  try {
    unlinkSync(join(gitDir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const packedPath = join(gitDir, 'packed-refs');
  let text: string | null = null;
  try {
    text = readFileSync(packedPath, 'utf8');
  } catch {
    text = null;
  }
  if (text !== null && text.includes(` ${name}\n`)) {
    const out: string[] = [];
    let skipPeeled = false;
    for (const line of text.split('\n')) {
      if (line.startsWith('^') && skipPeeled) continue;
      skipPeeled = line.length > 41 && line.slice(41) === name;
      if (!skipPeeled) out.push(line);
    }
    await writeAtomic(packedPath, out.join('\n'));
  }
  // Drop empty directories between the ref and refs/<kind>/ (as git does).
  let dir = dirname(join(gitDir, name));
  const stop = join(gitDir, 'refs');
  while (dir.length > stop.length && dirname(dir) !== stop) {
    try {
      if (readdirSync(dir).length > 0) break;
      rmdirSync(dir);
    } catch {
      break;
    }
    dir = dirname(dir);
  }
}

/** The refs under a prefix (`refs/heads/history/`), loose and packed, as full name → id. */
export function listRefs(gitDir: string, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, id] of readPackedRefs(gitDir)) if (name.startsWith(prefix)) out.set(name, id);
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(gitDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const name = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(name);
      else {
        const id = resolveRef(gitDir, name);
        if (id !== null) out.set(name, id);
      }
    }
  };
  walk(prefix.replace(/\/$/, ''));
  return out;
}
