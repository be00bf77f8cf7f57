import { walkTree } from './walk.js';
import { entriesOf } from './perms.js';
import type { Node } from './node.js';

const NAME = /^[A-Za-z0-9_@-]+$/;
const PERM = /^[rwbn]-?[0-9]+$/;

/** CONTROL check: walks the whole tree (iteratively) and lists every inconsistency found:
 *  bad names, bad permission lists, child maps whose counts disagree, future generations. */
export function checkStore(root: Node, maxGen: number): string[] {
  const problems: string[] = [];
  for (const [path, n] of walkTree(root, '/')) {
    const items = n.perms.split('\0');
    if (items.length < 2 || items[items.length - 1] !== '' || !items.slice(0, -1).every((p) => PERM.test(p))) {
      problems.push(`${path}: bad permission list`);
    } else if (entriesOf(n.perms).length !== items.length - 1) problems.push(`${path}: permission parse mismatch`);
    if (n.gen > maxGen) problems.push(`${path}: generation ${n.gen} beyond ${maxGen}`);
    let count = 0;
    let bytes = 0;
    n.children.forEach((name) => {
      count++;
      bytes += name.length + 1;
      if (!NAME.test(name)) problems.push(`${path}: bad child name ${JSON.stringify(name)}`);
    });
    if (count !== n.children.size || bytes !== n.children.bytes) problems.push(`${path}: child map counts disagree`);
  }
  return problems;
}
