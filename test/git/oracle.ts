import git from 'isomorphic-git';
import { Volume, createFsFromVolume } from 'memfs';
import type { Node } from '../../src/store/node.js';

/**
 * isomorphic-git on memfs as an independent oracle for object ids. memfs's types do not match
 * isomorphic-git's FsClient (isomorphic-git #1179), hence the one cast.
 */
export interface Oracle {
  fs: Parameters<typeof git.writeBlob>[0]['fs'];
  dir: string;
}

export async function oracle(): Promise<Oracle> {
  const fs = createFsFromVolume(new Volume()) as unknown as Oracle['fs'];
  await git.init({ fs, dir: '/repo', bare: true, defaultBranch: 'main' });
  return { fs, dir: '/repo' };
}

export async function oracleBlob(o: Oracle, bytes: Buffer): Promise<string> {
  return git.writeBlob({ fs: o.fs, gitdir: o.dir, blob: new Uint8Array(bytes) });
}

/** The tree id of a node per isomorphic-git: every blob and tree written through its API. */
export async function oracleTreeId(o: Oracle, node: Node): Promise<string> {
  const tree: { mode: string; path: string; oid: string; type: 'blob' | 'tree' }[] = [];
  tree.push({ mode: '100644', path: '.value', type: 'blob', oid: await oracleBlob(o, Buffer.from(node.value, 'latin1')) });
  tree.push({ mode: '100644', path: '.perms', type: 'blob', oid: await oracleBlob(o, Buffer.from(node.perms.replace(/\0/g, '\n'), 'latin1')) });
  const kids: [string, Node][] = [];
  node.children.forEach((name, child) => {
    kids.push([name, child]);
  });
  for (const [name, child] of kids) tree.push({ mode: '040000', path: name, type: 'tree', oid: await oracleTreeId(o, child) });
  return git.writeTree({ fs: o.fs, gitdir: o.dir, tree });
}

export { git as isogit };
