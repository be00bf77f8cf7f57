import * as crypto from 'node:crypto';
import { PERMS_FILE, VALUE_FILE } from '../../history/layout.js';
import { dirPairOutOfOrder } from '../../git/utils/compareTreeEntries.js';
import type { LargeTree } from './largeTree.js';

/**
 * A xenstore node's git tree (history/layout.ts) built from names and binary ids, in the mirror
 * worker: `.perms` and `.value` blobs, then the children as directories, in git's order. The
 * object (`tree <len>\0` + body) is written into one buffer and hashed in one call.
 */

const PERMS_HEAD = Buffer.from(`100644 ${PERMS_FILE}\0`, 'latin1');
const VALUE_HEAD = Buffer.from(`100644 ${VALUE_FILE}\0`, 'latin1');
const DIR_HEAD = Buffer.from('40000 ', 'latin1');

export interface EncodedTree {
  readonly id: Buffer;
  readonly body: Buffer;
  /** With `index`: the entries' sort keys and offsets (a LargeTree of the same body). */
  readonly large?: LargeTree;
}

/** SHA-1 of `<type> <len>\0` + body when the header is already in front of the body. */
export function sha1(object: Buffer): Buffer {
  return crypto.hash('sha1', object, 'buffer') as unknown as Buffer;
}

/** One `40000 <name>\0<id>` entry (for edits of a large tree). */
export function dirEntry(name: string, id: Buffer): Buffer {
  const b = Buffer.allocUnsafe(DIR_HEAD.length + name.length + 21);
  DIR_HEAD.copy(b, 0);
  b.write(name, DIR_HEAD.length, 'latin1');
  b[DIR_HEAD.length + name.length] = 0;
  id.copy(b, DIR_HEAD.length + name.length + 1);
  return b;
}

/** The `.perms` and `.value` entries, sort key first. */
export function fileEntries(permsId: Buffer, valueId: Buffer): [string, Buffer][] {
  return [
    [PERMS_FILE, Buffer.concat([PERMS_HEAD, permsId])],
    [VALUE_FILE, Buffer.concat([VALUE_HEAD, valueId])],
  ];
}

/**
 * The tree of a node with these children (`names` in byte order, child i's id at ids[20i]) and
 * blob ids. With `index`, also the LargeTree view of it (for a large directory's later edits).
 */
export function encodeTree(names: string[], ids: Buffer, permsId: Buffer, valueId: Buffer, index = false): EncodedTree {
  let order: number[] | null = null;
  for (let i = 1; i < names.length; i++) {
    if (dirPairOutOfOrder(names[i - 1], names[i])) {
      // git compares directory names as if they ended in '/': re-sort on that key.
      order = names.map((_, j) => j).sort((a, b) => (`${names[a]}/` < `${names[b]}/` ? -1 : 1));
      break;
    }
  }
  let size = PERMS_HEAD.length + VALUE_HEAD.length + 40;
  for (const n of names) size += DIR_HEAD.length + n.length + 21;
  const header = `tree ${size}\0`;
  const object = Buffer.allocUnsafe(header.length + size);
  let off = object.write(header, 0, 'latin1');
  const start = off;
  const keys: string[] = [];
  const offsets: number[] = [];
  let filesDone = 0;
  const files = () => {
    // '.perms' < '.value': both come before any name that does not start with '-'.
    if (index) {
      keys.push(PERMS_FILE, VALUE_FILE);
      offsets.push(off - start, off - start + PERMS_HEAD.length + 20);
    }
    off += PERMS_HEAD.copy(object, off);
    off += permsId.copy(object, off);
    off += VALUE_HEAD.copy(object, off);
    off += valueId.copy(object, off);
    filesDone = 1;
  };
  for (let k = 0; k < names.length; k++) {
    const j = order === null ? k : order[k];
    const name = names[j];
    if (filesDone === 0 && `${name}/` > PERMS_FILE) files();
    if (index) {
      keys.push(`${name}/`);
      offsets.push(off - start);
    }
    off += DIR_HEAD.copy(object, off);
    for (let c = 0; c < name.length; c++) object[off++] = name.charCodeAt(c);
    object[off++] = 0;
    off += ids.copy(object, off, 20 * j, 20 * j + 20);
  }
  if (filesDone === 0) files();
  const body = object.subarray(start);
  if (!index) return { id: sha1(object), body };
  offsets.push(size);
  return { id: sha1(object), body, large: { keys, offsets, body } };
}

/** The id of a tree body held without its header (a large directory's new version). */
export function treeIdOfBody(body: Buffer): Buffer {
  return crypto.createHash('sha1').update(`tree ${body.length}\0`, 'latin1').update(body).digest();
}
