import type { Node } from './node.js';
import { childPath } from './path.js';

/**
 * Every node of a subtree with its absolute path, parents first, children in byte order;
 * iterative (paths may be 1,500 levels deep, XSA-418). The one walker for code off the
 * request path; the hot walks (ops.ts accounting of a removal, the watch index, a
 * transaction's removal, RELEASE's pruned walk, the mirror's deduplicating walk) keep their
 * own loops, which skip what they need not visit.
 */
export function* walkTree(top: Node, topPath: string): Generator<[string, Node]> {
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
