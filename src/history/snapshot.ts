import { permsBlob, treeIdOf } from './nodeTree.js';
import { encodeCommit, type Signature } from '../git/objects/commit.js';
import { PackBuilder, type FinishedPack } from '../git/pack/packWriter.js';
import { writePackIndex } from '../git/pack/packIndexWriter.js';
import { hashObject } from '../git/utils/hashObject.js';
import { walkNewObjects } from '../mirror/walk.js';
import { ChildMap } from '../store/childmap.js';
import { Node } from '../store/node.js';
import { canonicalize, childPath, isAtOrBelow } from '../store/path.js';
import { lookup, nodesBelow } from '../store/tree.js';
import { Commit } from './commit.js';
import { nodeJson } from './format.js';

/**
 * Snapshots of one guest for debugging (`xsgit snapshot`, CONTROL `history snapshot`): the
 * guest's subtrees as they were at one commit, selected from that commit's root and
 * serialised as JSON, as a ustar archive or as a one-commit git repository. Pure: everything
 * here builds bytes in memory; src/server/snapshotControl.ts writes them.
 *
 * What a guest's subtrees are (each present one is included whole, missing ones are absent):
 *   - `/local/domain/N`;
 *   - `/vm/<uuid>`: the path held by `/local/domain/N/vm`, followed only when it is a valid
 *     path strictly below `/vm/` (never `/vm` itself, never anything elsewhere);
 *   - `/libxl/N`;
 *   - every backend directory for N: `/local/domain/<B>/backend/<type>/N`, for any backend
 *     domain B and device type (B = N's own are already inside `/local/domain/N`).
 *
 * The pruned tree (`GuestSelection.root`) keeps the root and the ancestors of those subtrees
 * with their own value and permissions but only the children that lead to a selected subtree;
 * the subtrees themselves are the commit's very nodes (shared, so their git ids are memoized).
 * The tar and git formats hold exactly that tree in the git layout (src/git/layout.ts).
 */

export interface GuestSelection {
  readonly domid: number;
  /** The path `/local/domain/N/vm` names when it is usable (below `/vm/`), whether or not it
   *  exists at the commit; else null. */
  readonly vm: string | null;
  /** The included subtree roots that exist, in the order listed above (backends in byte order
   *  of backend domain, then device type). */
  readonly paths: readonly string[];
  /** The selected nodes by subtree root. */
  readonly subtrees: ReadonlyMap<string, Node>;
  /** The pruned tree (see above). */
  readonly root: Node;
  /** Nodes in the selected subtrees (the ancestors kept for structure not counted). */
  readonly nodes: number;
}

/** Where a snapshot comes from: the commit of the in-memory history. */
export interface SnapshotSource {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly summary: string;
}

/** The subtree roots a guest's snapshot looks for, in order; only existing ones are kept. */
export function guestPaths(root: Node, domid: number): { paths: string[]; vm: string | null } {
  const n = String(domid);
  const vm = vmPath(lookup(root, `/local/domain/${n}/vm`)?.value);
  const paths = [`/local/domain/${n}`];
  if (vm !== null) paths.push(vm);
  paths.push(`/libxl/${n}`);
  const domains = lookup(root, '/local/domain');
  domains?.children.forEach((b, dom) => {
    dom.children.get('backend')?.children.forEach((type, dir) => {
      if (dir.children.has(n)) paths.push(`/local/domain/${b}/backend/${type}/${n}`);
    });
  });
  return { paths, vm };
}

/** The `/vm/<uuid>` path a `vm` node holds, if it is a valid path below `/vm/`. */
function vmPath(value: string | undefined): string | null {
  if (value === undefined) return null;
  const p = canonicalize(value.replace(/\0+$/, ''), '/');
  return p !== null && p.startsWith('/vm/') && p.length > 4 ? p : null;
}

/** Selects the guest's subtrees at `root` (a commit's tree). */
export function selectGuest(root: Node, domid: number): GuestSelection {
  const { paths: wanted, vm } = guestPaths(root, domid);
  const paths: string[] = [];
  const subtrees = new Map<string, Node>();
  for (const p of wanted) {
    const node = lookup(root, p);
    if (node === undefined || paths.some((q) => isAtOrBelow(p, q))) continue;
    paths.push(p);
    subtrees.set(p, node);
  }
  let nodes = 0;
  for (const n of subtrees.values()) nodes += countNodes(n);
  return { domid, vm, paths, subtrees, root: prune(root, '/', paths), nodes };
}

function countNodes(top: Node): number {
  let count = 0;
  const stack = [top];
  while (stack.length > 0) {
    const n = stack.pop()!;
    count++;
    n.children.forEach((_, c) => {
      stack.push(c);
    });
  }
  return count;
}

/** `node` (at `path`) with only the children leading to one of `keep` (paths below it). The
 *  recursion goes as deep as the deepest subtree root (a handful of levels), not deeper. */
function prune(node: Node, path: string, keep: readonly string[]): Node {
  if (keep.includes(path)) return node;
  const byChild = new Map<string, string[]>();
  for (const p of keep) {
    const start = path === '/' ? 1 : path.length + 1;
    const end = p.indexOf('/', start);
    const name = p.slice(start, end < 0 ? undefined : end);
    let list = byChild.get(name);
    if (list === undefined) byChild.set(name, (list = []));
    list.push(p);
  }
  let children = ChildMap.empty<Node>();
  for (const [name, below] of byChild) {
    const child = node.children.get(name);
    if (child !== undefined) children = children.set(name, prune(child, childPath(path, name), below));
  }
  return new Node(node.value, node.perms, children, node.gen);
}

// ---------------------------------------------------------------- JSON

/** One node in the JSON format. */
export interface SnapshotJsonNode {
  /** The value as `xenstore-read` prints it (format.ts escapeValue: `\n`, `\000`, `\xNN`…). */
  value: string;
  /** The exact bytes, base64. */
  base64: string;
  /** Permissions as `xenstore-ls -p` shows them: `n0,r5` (owner and default first). */
  perms: string;
  /** Child names in byte order (each is also a key of the same subtree). */
  children: string[];
}

/**
 * The JSON format (one object, UTF-8, ASCII in practice; ends with a newline):
 *
 *   { "version": 1, "commit": "<40 hex>", "time": "<ISO 8601>", "summary": "<commit summary>",
 *     "domid": N, "vm": "/vm/<uuid>" | null,
 *     "subtrees": { "<subtree root>": { "<absolute path>": SnapshotJsonNode, … }, … } }
 *
 * `subtrees` has one key per included subtree root (in the order of GuestSelection.paths);
 * each maps every node of that subtree, parents first, to its state.
 */
export interface SnapshotJson {
  version: 1;
  commit: string;
  time: string;
  summary: string;
  domid: number;
  vm: string | null;
  subtrees: Record<string, Record<string, SnapshotJsonNode>>;
}

export function jsonNode(node: Node): SnapshotJsonNode {
  return { ...nodeJson(node), children: node.children.keys() };
}

/** The JSON document, stringified one node at a time. */
export function snapshotJson(sel: GuestSelection, source: SnapshotSource): Buffer {
  const head: Omit<SnapshotJson, 'subtrees'> = {
    version: 1,
    commit: source.id,
    time: new Date(source.time).toISOString(),
    summary: source.summary,
    domid: sel.domid,
    vm: sel.vm,
  };
  const parts: string[] = [JSON.stringify(head).slice(0, -1), ',"subtrees":{'];
  let firstTree = true;
  for (const [top, node] of sel.subtrees) {
    parts.push(`${firstTree ? '' : ','}${JSON.stringify(top)}:{`);
    firstTree = false;
    let first = true;
    for (const [path, n] of nodesBelow(node, top)) {
      parts.push(`${first ? '' : ','}${JSON.stringify(path)}:${JSON.stringify(jsonNode(n))}`);
      first = false;
    }
    parts.push('}');
  }
  parts.push('}}\n');
  return Buffer.from(parts.join(''), 'utf8');
}

// ---------------------------------------------------------------- tar

const BLOCK = 512;
/** GNU tar's default record: archives are padded to a multiple of it. */
const RECORD = 20 * BLOCK;

function padded(n: number): number {
  return n + ((BLOCK - (n % BLOCK)) % BLOCK);
}

/** Splits a name into ustar's prefix (≤ 155) and name (≤ 100) fields at a `/`, if possible. */
export function splitUstarName(name: string): [string, string] | null {
  if (name.length <= 100) return ['', name];
  // The name field holds what follows the `/` at index i: at most 100 bytes, not empty.
  for (let i = name.indexOf('/', name.length - 101); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const rest = name.slice(i + 1);
    if (rest.length === 0) return null;
    if (rest.length <= 100) return [name.slice(0, i), rest];
  }
  return null;
}

/** A pax extended header record `"<len> <key>=<value>\n"`, len counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

interface TarEntry {
  readonly prefix: string;
  readonly name: string;
  readonly type: '0' | '5' | 'x';
  /** The contents: bytes, or a latin1 string (one char per byte). */
  readonly data: Buffer | string | null;
}

/**
 * A POSIX ustar archive writer; names that do not fit ustar's prefix/name fields get a pax
 * extended header (`path=`) first, as GNU tar and bsdtar read. Entries are owned by root
 * (uid/gid 0), files 0644, directories 0755, all with one mtime. Names must be ASCII (xenstore
 * paths are). finish() writes the whole archive into one buffer: one header template per entry
 * type is copied and patched, so a header costs no allocation.
 */
export class TarWriter {
  private readonly entries: TarEntry[] = [];
  private size = 0;

  constructor(private readonly mtime: number) {}

  directory(name: string): void {
    this.add(name.endsWith('/') ? name : `${name}/`, '5', null);
  }

  /** A file; `data` may be a latin1 string (one char per byte, as node values are). */
  file(name: string, data: Buffer | string): void {
    this.add(name, '0', data);
  }

  private add(full: string, type: '0' | '5', data: Buffer | string | null): void {
    let split = splitUstarName(full);
    if (split === null) {
      const pax = Buffer.from(paxRecord('path', full), 'utf8');
      this.push({ prefix: '', name: `PaxHeaders/${baseOf(full)}`.slice(0, 100), type: 'x', data: pax });
      split = ['', full.slice(-100).replace(/^\/+/, '')];
    }
    this.push({ prefix: split[0], name: split[1], type, data });
  }

  private push(e: TarEntry): void {
    this.entries.push(e);
    this.size += BLOCK + (e.data === null ? 0 : padded(e.data.length));
  }

  /** The archive: the entries, two zero blocks, zeros up to a whole record. */
  finish(): Buffer {
    const end = this.size + 2 * BLOCK;
    const buf = Buffer.alloc(end + ((RECORD - (end % RECORD)) % RECORD));
    const templates = new Map<string, { header: Buffer; sum: number }>();
    let off = 0;
    for (const e of this.entries) {
      let t = templates.get(e.type);
      if (t === undefined) templates.set(e.type, (t = this.template(e.type)));
      buf.set(t.header, off);
      let sum = t.sum;
      sum += writeAscii(buf, off, e.name);
      sum += writeAscii(buf, off + 345, e.prefix);
      const size = e.data === null ? 0 : e.data.length;
      sum += writeAscii(buf, off + 124, size.toString(8).padStart(11, '0')) - 11 * 48;
      buf.write(sum.toString(8).padStart(6, '0') + '\0 ', off + 148, 8, 'latin1');
      off += BLOCK;
      if (typeof e.data === 'string') {
        if (e.data.length > 64) buf.write(e.data, off, 'latin1');
        else for (let i = 0; i < e.data.length; i++) buf[off + i] = e.data.charCodeAt(i);
        off += padded(e.data.length);
      } else if (e.data !== null) {
        e.data.copy(buf, off);
        off += padded(e.data.length);
      }
    }
    return buf;
  }

  /** A header with every field but name, prefix, size and checksum; the sum of its bytes with
   *  the checksum field as spaces and the size field as zeros. */
  private template(type: '0' | '5' | 'x'): { header: Buffer; sum: number } {
    const h = Buffer.alloc(BLOCK);
    octal(h, 100, 8, type === '5' ? 0o755 : 0o644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, 0);
    octal(h, 136, 12, this.mtime);
    h.write(type, 156, 1, 'latin1');
    h.write('ustar\0', 257, 6, 'latin1');
    h.write('00', 263, 2, 'latin1');
    h.write('root', 265, 32, 'latin1');
    h.write('root', 297, 32, 'latin1');
    octal(h, 329, 8, 0);
    octal(h, 337, 8, 0);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    return { header: h, sum };
  }
}

function octal(buf: Buffer, at: number, width: number, n: number): void {
  buf.write(n.toString(8).padStart(width - 1, '0') + '\0', at, width, 'latin1');
}

/** Writes an ASCII string byte by byte (short strings: cheaper than Buffer.write); returns the
 *  sum of its bytes. */
function writeAscii(buf: Buffer, at: number, text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    buf[at + i] = c;
    sum += c;
  }
  return sum;
}

function baseOf(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * The pruned tree as a tar archive in the git layout: for each node `a/b/` a directory entry,
 * then `a/b/.perms`, `a/b/.value`, then its children; the root's own `.perms` and `.value` at
 * the top (no leading directory). mtime: the commit's time.
 */
export function snapshotTar(sel: GuestSelection, source: SnapshotSource): Buffer {
  const tar = new TarWriter(Math.floor(source.time / 1000));
  for (const [path, node] of nodesBelow(sel.root, '/')) {
    const dir = path === '/' ? '' : `${path.slice(1)}/`;
    if (dir !== '') tar.directory(dir);
    tar.file(`${dir}.perms`, permsBlob(node.perms).body);
    tar.file(`${dir}.value`, node.value);
  }
  return tar.finish();
}

// ---------------------------------------------------------------- git

export interface SnapshotPack {
  /** The snapshot commit (not the source commit). */
  readonly commitId: string;
  readonly treeId: string;
  readonly message: string;
  readonly pack: FinishedPack;
  /** Its `.idx` (version 2). */
  readonly index: Buffer;
}

/**
 * The snapshot commit's message: a summary naming the source commit, then trailers.
 *
 *   snapshot of domain 5 at 1a2b3c4d5e6f (write /local/domain/5/name)
 *
 *   Snapshot-Of: <source commit id>
 *   Snapshot-Date: <source commit time, ISO 8601>
 *   Snapshot-Domid: 5
 *   Snapshot-Path: /local/domain/5        one per included subtree
 */
export function snapshotMessage(sel: GuestSelection, source: SnapshotSource): string {
  let msg = `snapshot of domain ${sel.domid} at ${source.id.slice(0, 12)} (${source.summary})\n\n`;
  msg += `Snapshot-Of: ${source.id}\nSnapshot-Date: ${new Date(source.time).toISOString()}\nSnapshot-Domid: ${sel.domid}\n`;
  for (const p of sel.paths) msg += `Snapshot-Path: ${p}\n`;
  return msg;
}

/**
 * One root commit whose tree is the pruned tree, and every object it reaches, as one pack with
 * its index. Author and committer are `xsgit <xsgit@xenstore>` at the source commit's time, so
 * the same snapshot always gets the same commit id.
 */
export function snapshotPack(sel: GuestSelection, source: SnapshotSource): SnapshotPack {
  const treeId = treeIdOf(sel.root);
  const sig: Signature = { name: 'xsgit', email: 'xsgit@xenstore', time: Math.floor(source.time / 1000), tz: '+0000' };
  const message = snapshotMessage(sel, source);
  const body = encodeCommit({ tree: treeId, parents: [], author: sig, committer: sig, message });
  const commitId = hashObject('commit', body);
  const builder = new PackBuilder('auto');
  builder.add('commit', body, commitId);
  // The walker gives the tree's objects, each once; its stand-in commit is left out.
  const standIn = new Commit(sel.root, [], sel.domid, source.time, [], null);
  for (const o of walkNewObjects([standIn], new Set<string>())) if (o.type !== 'commit') builder.add(o.type, o.body, o.id);
  const pack = builder.finish();
  return { commitId, treeId, message, pack, index: writePackIndex(pack.entries, pack.checksum) };
}
