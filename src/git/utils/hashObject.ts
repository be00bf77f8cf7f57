import * as crypto from 'node:crypto';

/**
 * Git object ids: SHA-1 over `"<type> <length>\0"` followed by the body, as 40 lowercase hex
 * digits. Uses node:crypto's one-shot `hash` where present (Node ≥ 20.12), else createHash.
 */

const oneShot: ((alg: string, data: Buffer, enc: 'hex') => string) | undefined = (
  crypto as { hash?: (alg: string, data: Buffer, enc: 'hex') => string }
).hash;

export function sha1Hex(data: Buffer): string {
  return oneShot !== undefined ? oneShot('sha1', data, 'hex') : crypto.createHash('sha1').update(data).digest('hex');
}

/** The id of an object of this type and body. */
export function hashObject(type: string, body: Buffer): string {
  const header = `${type} ${body.length}\0`;
  const buf = Buffer.allocUnsafe(header.length + body.length);
  buf.write(header, 0, 'latin1');
  body.copy(buf, header.length);
  return sha1Hex(buf);
}

/** The id of a blob whose bytes are the chars of a latin1 string (one char per byte). */
export function hashLatin1Blob(value: string): string {
  return sha1Hex(Buffer.from(`blob ${value.length}\0${value}`, 'latin1'));
}

export const HEX_ID = /^[0-9a-f]{40}$/;
