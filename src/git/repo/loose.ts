import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { InvalidObjectError } from '../errors.js';
import type { GitObject, ObjectType } from '../objects/types.js';

/** Loose objects: `objects/<2 hex>/<38 hex>`, each a zlib stream of `"<type> <size>\0" + body`. */

export function loosePath(gitDir: string, id: string): string {
  return join(gitDir, 'objects', id.slice(0, 2), id.slice(2));
}

/** The loose object with this id, or null when there is no such file. */
export function readLoose(gitDir: string, id: string): GitObject | null {
  let raw: Buffer;
  try {
    raw = readFileSync(loosePath(gitDir, id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const data = inflateSync(raw);
  const nul = data.indexOf(0);
  const sp = data.indexOf(0x20);
  if (nul < 0 || sp < 0 || sp > nul) throw new InvalidObjectError(`bad loose object ${id}`);
  const type = data.toString('latin1', 0, sp) as ObjectType;
  const size = Number(data.toString('latin1', sp + 1, nul));
  const body = data.subarray(nul + 1);
  if (body.length !== size) throw new InvalidObjectError(`loose object ${id}: size mismatch`);
  return { id, type, body };
}

/** The ids of the loose objects in one fan-out directory (`prefix` = 2 hex digits). */
export function listLoose(gitDir: string, prefix: string): string[] {
  try {
    return readdirSync(join(gitDir, 'objects', prefix))
      .filter((n) => n.length === 38 && /^[0-9a-f]{38}$/.test(n))
      .map((n) => prefix + n);
  } catch {
    return [];
  }
}
