/**
 * src/git: git objects for the xenstore history (encoding, ids, layout), the object walker,
 * the pack writer and reader, export to and import from on-disk repositories.
 */
export { GitError, InvalidObjectError, InvalidRefError, MissingObjectError, NotFoundError } from './errors.js';
export type { GitObject, ObjectType } from './objects/types.js';
export { EMPTY_BLOB_ID, encodeLatin1Blob, latin1BlobId } from './objects/blob.js';
export { BLOB_MODE, TREE_MODE, encodeTree, parseTree, sortTreeEntries, type TreeEntry } from './objects/tree.js';
export { encodeCommit, parseCommit, formatSignature, parseSignature, type CommitFields, type Signature } from './objects/commit.js';
export { hashObject } from './utils/hashObject.js';
export { compareTreeEntries } from './utils/compareTreeEntries.js';
export { PERMS_FILE, VALUE_FILE, permsFromText, permsToText } from './layout.js';
export { encodeNodeTree, permsBlob, treeIdOf, valueBlobId } from './nodeTree.js';
export { commitMessage, commitSummary, commonPathPrefix, parseCommitMessage, type ParsedMessage } from './commitMessage.js';
export { commitIdOf, encodeCommitOf, signatureOf } from './commitId.js';
export { externalCommit, externalParentIds, isExternal, type ExternalCommitInit } from './external.js';
export { walkNewObjects, type KnownObjects, type WalkedObject } from './walk.js';
export { PackBuilder, type FinishedPack, type PackCompression } from './pack/packWriter.js';
export { writePackIndex } from './pack/packIndexWriter.js';
export { storePack, chooseIndexer, type Indexer } from './pack/storePack.js';
export { RepoObjects } from './repo/objectStore.js';
export { initBareRepo } from './repo/init.js';
export { deleteRef, expandRef, readPackedRefs, resolveRef, symbolicTarget, writeRef } from './repo/refs.js';
export {
  GitExporter,
  exportRepo,
  type ExportProgress,
  type ExportRequest,
  type ExportResult,
  type ExporterOptions,
} from './export/exporter.js';
export {
  importCommit,
  importTree,
  resolveRevision,
  type ImportOptions,
  type ImportResult,
  type ImportedCommit,
} from './import/importer.js';
export { readNodeTree, TreeMemo, type ReadTree } from './import/readNodeTree.js';
