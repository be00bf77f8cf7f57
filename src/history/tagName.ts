/**
 * Which names `xsgit tag` accepts. A tag becomes the ref `refs/tags/<name>` in the mirror and
 * a name REV resolves (revs.ts), so a name must be one git accepts (`git check-ref-format`'s
 * rules, and `git tag`'s refusal of a leading `-`), and must not shadow what a REV already
 * names: the branch `main`, `HEAD` and git's other `*HEAD` refs, the branches the mirror writes
 * (`history/<tier>`, `tx/<conn>-<txid>`), a ref prefix, a commit id, or `@TIME`.
 *
 * Returns null for an acceptable name, else why not (a phrase, without the name).
 */
export function tagNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty';
  if (/[^\x21-\x7e]/.test(name)) return 'only printable ASCII without spaces';
  const bad = /[~^:?*[\\]/.exec(name);
  if (bad !== null) return `git refuses "${bad[0]}" in a ref name`;
  if (name.includes('..')) return 'git refuses ".." in a ref name';
  if (name.includes('@{')) return 'git refuses "@{" in a ref name';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'git refuses an empty path component';
  if (name.endsWith('.')) return 'git refuses a ref name ending with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'git refuses a component starting with "."';
    if (part.endsWith('.lock')) return 'git refuses a component ending with ".lock"';
  }
  if (name.startsWith('-')) return 'a tag may not start with "-" (git tag refuses it; it reads as an option)';
  if (name.startsWith('@')) return 'reserved: @TIME names a time';
  if (name === 'main' || /^[A-Z_]*HEAD$/.test(name)) return 'reserved: it names a branch or a HEAD ref';
  const first = name.split('/')[0];
  if (['history', 'tx', 'refs', 'heads', 'tags', 'remotes'].includes(first)) return `reserved: ${first}/ names the mirror's branches and refs`;
  if (/^[0-9a-f]{4,40}$/.test(name)) return 'reserved: it reads as a commit id';
  return null;
}
