import { encodeCommit, type Signature } from '../git/objects/commit.js';
import { PackBuilder, type FinishedPack } from '../git/pack/packWriter.js';
import { writePackIndex } from '../git/pack/packIndexWriter.js';
import { hashObject } from '../git/utils/hashObject.js';
import { Commit } from '../history/commit.js';
import { treeIdOf } from '../history/nodeTree.js';
import type { GuestSelection, SnapshotSource } from '../history/snapshot.js';
import { walkNewObjects } from './walk.js';

/**
 * The git format of a guest snapshot (history/snapshot.ts selects the guest): one root
 * commit whose tree is the pruned tree, as a pack with its index.
 */

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
