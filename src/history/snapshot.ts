import { TarArchive } from '../util/tar.js';
import { permsBlob } from './nodeTree.js';
import { ChildMap } from '../store/childmap.js';
import { Node } from '../store/node.js';
import { canonicalize, childPath, homePath, isAtOrBelow } from '../store/path.js';
import { lookup } from '../store/tree.js';
import { walkTree } from '../store/walk.js';
import { nodeJson } from './format.js';

/**
 * Snapshots of one guest for debugging (`xsgit snapshot`, CONTROL `history snapshot`): the
 * guest's subtrees as they were at one commit, selected from that commit's root and
 * serialised as JSON or as a tar archive (the one-commit git repository: mirror/snapshotPack.ts).
 * Pure: everything here builds bytes in memory; control/snapshot.ts writes them.
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
  const home = homePath(domid);
  const vm = vmPath(lookup(root, `${home}/vm`)?.value);
  const paths = [home];
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
  for (const _ of walkTree(top, '/')) count++;
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
    for (const [path, n] of walkTree(node, top)) {
      parts.push(`${first ? '' : ','}${JSON.stringify(path)}:${JSON.stringify(jsonNode(n))}`);
      first = false;
    }
    parts.push('}');
  }
  parts.push('}}\n');
  return Buffer.from(parts.join(''), 'utf8');
}

// ---------------------------------------------------------------- tar

/**
 * The pruned tree as a tar archive in the git layout: for each node `a/b/` a directory entry,
 * then `a/b/.perms`, `a/b/.value`, then its children; the root's own `.perms` and `.value` at
 * the top (no leading directory). mtime: the commit's time.
 */
export function snapshotTar(sel: GuestSelection, source: SnapshotSource): Buffer {
  const tar = new TarArchive(new Date(source.time));
  for (const [path, node] of walkTree(sel.root, '/')) {
    const dir = path === '/' ? '' : `${path.slice(1)}/`;
    if (dir !== '') tar.directory(dir);
    tar.file(`${dir}.perms`, permsBlob(node.perms).body);
    tar.file(`${dir}.value`, node.value);
  }
  return tar.finish();
}
