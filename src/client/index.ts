/** The xsgit client library. */

export {
  Client,
  Transaction,
  Watcher,
  type ClientOptions,
  type DirectoryPart,
  type EventStream,
  type Reply,
  type TransactionOptions,
  type WatchEvent,
} from './client.js';
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
