import { parentPort, workerData } from 'node:worker_threads';
import { storePack } from '../../git/pack/storePack.js';
import { BatchPacker } from './packer.js';
import type { BatchFailed, BatchReply, BatchRequest, WorkerInit } from './protocol.js';

/**
 * The live mirror's worker thread: packs each batch (packer.ts) and stores the pack with its
 * index in the repository (storePack, our own index writer: no git process per batch), then
 * answers with the ids. One batch at a time, in the order sent. A failed batch (disk full,
 * permissions) is answered `failed` and leaves no trace: the packer remembers nothing of it.
 */
const { gitDir } = workerData as WorkerInit;

const packer = new BatchPacker();
const port = parentPort;
if (port === null) throw new Error('mirror worker: not in a worker thread');

let queue: Promise<void> = Promise.resolve();

port.on('message', (req: BatchRequest) => {
  queue = queue.then(() => run(req));
});

async function run(req: BatchRequest): Promise<void> {
  const t0 = performance.now();
  try {
    const done = packer.pack(req.bytes, req.forgetBelow);
    let pack: string | null = null;
    if (done.pack !== null) pack = await storePack(gitDir, done.pack, 'xsgit');
    packer.commit(done);
    const reply: BatchReply = {
      kind: 'done',
      seq: req.seq,
      treeIds: done.treeIds,
      commitIds: done.commitIds,
      pack,
      objects: done.pack?.count ?? 0,
      deltas: done.deltas,
      bytes: done.pack?.bytes ?? 0,
      ms: performance.now() - t0,
      heldBytes: packer.heldBytes,
    };
    port!.postMessage(reply);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reply: BatchFailed = { kind: 'failed', seq: req.seq, message: err.message, code: err.code };
    port!.postMessage(reply);
  }
}
