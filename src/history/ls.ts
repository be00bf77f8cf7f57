import type { Node } from '../store/node.js';
import { childPath } from '../store/path.js';
import { escapeValue, permsText } from './format.js';

/**
 * `xenstore-ls -p PATH` as the real tool prints it (Xen 4.17 xenstore_client.c, measured
 * against it in test/history/cli-answers.test.ts), for a node of some commit: its children,
 * depth first, one line each:
 *
 *   <depth spaces><name> = "<value escaped>"<padding>  (<perms>)
 *
 * - the name is cut to `width - 8 - depth` characters (8: the length of ` = "..."`);
 * - a value whose raw length would pass `width` (depth + name + bytes + 8 > width) is cut to
 *   `width - 8 - (depth + name)` escaped characters and ends `\..."`, without padding;
 * - otherwise a space follows the value, then `. . .` (a dot on odd columns, a space on even
 *   ones) up to column 60;
 * - `width` is 80 unless the output is a terminal (then its width).
 *
 * Returns the lines, each with its newline; a leaf gives none (as the tool prints nothing).
 */
export function lsText(node: Node, path: string, width = 80): string {
  const DESIRED = 60;
  const TAG = 8;
  let out = '';
  const stack: [string, Node, number][] = [];
  const pushKids = (p: string, n: Node, depth: number): void => {
    const kids: [string, Node, number][] = [];
    n.children.forEach((name, child) => {
      kids.push([childPath(p, name), child, depth]);
    });
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  };
  pushKids(path, node, 0);
  while (stack.length > 0) {
    const [p, n, depth] = stack.pop()!;
    const name = p.slice(p.lastIndexOf('/') + 1).slice(0, Math.max(0, width - TAG - depth));
    let line = ' '.repeat(depth) + name;
    const escaped = escapeValue(n.value);
    if (width < line.length + n.value.length + TAG) {
      line += ` = "${escaped.slice(0, Math.max(0, width - TAG - line.length))}\\..."`;
    } else {
      line += ` = "${escaped}" `;
      for (let col = line.length; col < Math.min(DESIRED, width); col++) line += col & 1 ? '.' : ' ';
    }
    out += `${line}  (${permsText(n.perms)})\n`;
    pushKids(p, n, depth + 1);
  }
  return out;
}
