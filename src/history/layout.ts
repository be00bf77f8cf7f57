/**
 * How a xenstore tree maps onto git (fixed; git users and scripts rely on it):
 *
 *   <node>/            tree  (mode 40000), one per xenstore node; the root node is the root tree
 *     .value           blob  (mode 100644) the node's value, byte for byte, nothing added
 *     .perms           blob  (mode 100644) the permission list, one entry per line: "n0\nr5\n"
 *                            (the wire form "n0\0r5\0" with each NUL turned into a newline)
 *     <child>/         tree  the child node, same shape, recursively
 *
 * Both blobs are always written, so no tree is ever empty. xenstore path elements only use
 * [A-Za-z0-9_@-], so a child can never be called `.value` or `.perms`. Nothing volatile
 * (generation counts, transaction ids, quota) goes into trees; commit trailers carry the domain
 * and transaction (see commitMessage.ts).
 */

export const VALUE_FILE = '.value';
export const PERMS_FILE = '.perms';

/** The `.perms` blob text of a permission list in wire form (NUL-terminated entries). */
export function permsToText(perms: string): string {
  return perms.replace(/\0/g, '\n');
}

/**
 * The wire form of a `.perms` blob: one entry per non-empty line, each NUL-terminated. A file
 * edited by hand without the final newline still reads correctly.
 */
export function permsFromText(text: string): string {
  let out = '';
  for (const line of text.split('\n')) if (line.length > 0) out += line + '\0';
  return out;
}

/** A child name that the layout can hold: not empty, no `/` or NUL, not a reserved file name. */
export function isStorableName(name: string): boolean {
  return (
    name.length > 0 &&
    name !== VALUE_FILE &&
    name !== PERMS_FILE &&
    name !== '.' &&
    name !== '..' &&
    name.indexOf('/') < 0 &&
    name.indexOf('\0') < 0
  );
}
