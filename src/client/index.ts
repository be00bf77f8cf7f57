/** The xsgit client library. */

export { Client, type ClientOptions, type DirectoryPart, type EventStream, type Reply, type TransactionOptions } from './client.js';
export { Transaction } from './transaction.js';
export type { Value, WatchEvent } from './types.js';
export { Watcher } from './watcher.js';
export { XsConnectionError, XsError, isXsError } from './errors.js';
export { AsyncQueue, QueueTimeoutError } from './events.js';
export {
  decodeStrings,
  decodeText,
  encodeFrame,
  encodeStrings,
  encodeWrite,
  FrameDecoder,
  FrameTooLargeError,
  writeHeader,
  type Frame,
  type Part,
} from './codec.js';
export { DEFAULT_RUN_DIR, defaultRunDir, defaultSocketPath, socketPathForRunDir } from './paths.js';
