import { hashLatin1Blob } from '../utils/hashObject.js';

/** The blob id of a latin1 string's bytes. */
export function latin1BlobId(value: string): string {
  return hashLatin1Blob(value);
}

/** The id of the empty blob (a well-known constant in git). */
export const EMPTY_BLOB_ID = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
