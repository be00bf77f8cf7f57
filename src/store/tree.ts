import { Node, NO_CHILDREN } from './node.js';
import type { View } from './view.js';
import { childPath } from './path.js';

/** The store-wide generation counter (DIRECTORY_PART's `gen`). */
export class Generation {
  n = 0;
  next(): number {
    return ++this.n;
  }
}

/** Every node of a subtree with its absolute path, parents first, children in byte order. */
export function* nodesBelow(top: Node, topPath: string): Generator<[string, Node]> {
  const stack: [string, Node][] = [[topPath, top]];
  while (stack.length > 0) {
    const [path, node] = stack.pop()!;
    yield [path, node];
    const kids: [string, Node][] = [];
    node.children.forEach((name, child) => {
      kids.push([childPath(path, name), child]);
    });
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
}

/** The node at a canonical path; an iterative walk, whatever the depth. */
export function lookup(root: Node, path: string): Node | undefined {
  if (path === '/') return root;
  let n: Node | undefined = root;
  let i = 1;
  for (;;) {
    const j = path.indexOf('/', i);
    n = n.children.get(j < 0 ? path.slice(i) : path.slice(i, j));
    if (n === undefined || j < 0) return n;
    i = j + 1;
  }
}

/** Child names repeat across the store (`state`, `device`, `0`…): one string for each keeps
 *  a large store smaller. Bounded; only names of new nodes go through it. */
const names = new Map<string, string>();

function intern(name: string): string {
  const known = names.get(name);
  if (known !== undefined) return known;
  if (names.size >= 65536) names.clear();
  names.set(name, name);
  return name;
}

/** The nodes from the root down to the parent of `path`, and the last name. */
function spine(root: Node, path: string, out: Node[], names: string[]): string {
  out.push(root);
  let n = root;
  let i = 1;
  for (;;) {
    const j = path.indexOf('/', i);
    if (j < 0) return path.slice(i);
    const name = path.slice(i, j);
    const c = n.children.get(name);
    if (c === undefined) throw new Error(`no parent for ${path}`);
    names.push(name);
    out.push(c);
    n = c;
    i = j + 1;
  }
}

/** Rebuilds the ancestors of a changed node: each gets the new child, keeping its generation. */
function rebuild(nodes: Node[], names: string[], top: Node): Node {
  let child = top;
  for (let d = nodes.length - 2; d >= 0; d--) child = nodes[d].withChild(names[d], child);
  return child;
}

/**
 * The live store as a View: updates copy the path from the root, nothing else. One instance
 * is reused for every request; `root` is the working state until the request publishes it.
 */
export class HeadView implements View {
  private readonly nodes: Node[] = [];
  private readonly names: string[] = [];

  constructor(
    public root: Node,
    private readonly gen: Generation,
  ) {}

  node(path: string): Node | undefined {
    return lookup(this.root, path);
  }

  mark(): void {}

  put(path: string, value: string, perms: string): Node {
    if (path === '/') {
      this.root = new Node(value, perms, this.root.children, this.gen.next());
      return this.root;
    }
    const nodes = this.nodes;
    const names = this.names;
    nodes.length = 0;
    names.length = 0;
    const name = spine(this.root, path, nodes, names);
    const parent = nodes[nodes.length - 1];
    const old = parent.children.get(name);
    const fresh = new Node(value, perms, old === undefined ? NO_CHILDREN : old.children, this.gen.next());
    const p = old === undefined
      ? parent.withChildren(parent.children.set(intern(name), fresh), this.gen.next())
      : parent.withChild(name, fresh);
    nodes[nodes.length - 1] = p;
    this.root = rebuild(nodes, names, p);
    return fresh;
  }

  remove(path: string): Node {
    const nodes = this.nodes;
    const names = this.names;
    nodes.length = 0;
    names.length = 0;
    const name = spine(this.root, path, nodes, names);
    const parent = nodes[nodes.length - 1];
    const old = parent.children.get(name);
    if (old === undefined) throw new Error(`remove of missing ${path}`);
    nodes[nodes.length - 1] = parent.withChildren(parent.children.delete(name), this.gen.next());
    this.root = rebuild(nodes, names, nodes[nodes.length - 1]);
    return old;
  }
}
