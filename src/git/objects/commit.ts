import { InvalidObjectError } from '../errors.js';

/** An author or committer line: `Name <email> <unix seconds> <+hhmm>`. */
export interface Signature {
  readonly name: string;
  readonly email: string;
  /** Seconds since the epoch. */
  readonly time: number;
  /** Offset as git writes it, e.g. `+0000`. */
  readonly tz: string;
}

export interface CommitFields {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: Signature;
  readonly committer: Signature;
  /** Everything after the blank line that ends the headers (git keeps it as is). */
  readonly message: string;
}

export function formatSignature(s: Signature): string {
  return `${s.name} <${s.email}> ${s.time} ${s.tz}`;
}

const SIGNATURE = /^(.*?) ?<([^<>]*)> (-?\d+) ([+-]\d{4})$/;

export function parseSignature(line: string): Signature {
  const m = SIGNATURE.exec(line);
  if (m === null) throw new InvalidObjectError(`bad signature: ${JSON.stringify(line)}`);
  return { name: m[1], email: m[2], time: Number(m[3]), tz: m[4] };
}

/** A commit body exactly as git writes one without extra headers (no encoding, no gpgsig). */
export function encodeCommit(c: CommitFields): Buffer {
  let head = `tree ${c.tree}\n`;
  for (const p of c.parents) head += `parent ${p}\n`;
  head += `author ${formatSignature(c.author)}\ncommitter ${formatSignature(c.committer)}\n\n`;
  return Buffer.from(head + c.message, 'utf8');
}

/** Parses a commit body. Headers other than tree/parent/author/committer are skipped. */
export function parseCommit(body: Buffer): CommitFields {
  const text = body.toString('utf8');
  const end = text.indexOf('\n\n');
  const headEnd = end < 0 ? text.length : end;
  const lines = text.slice(0, headEnd).split('\n');
  let tree: string | undefined;
  const parents: string[] = [];
  let author: Signature | undefined;
  let committer: Signature | undefined;
  for (const line of lines) {
    if (line.startsWith(' ')) continue; // continuation of a multi-line header (gpgsig, mergetag)
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const val = sp < 0 ? '' : line.slice(sp + 1);
    if (key === 'tree' && tree === undefined) tree = val;
    else if (key === 'parent') parents.push(val);
    else if (key === 'author' && author === undefined) author = parseSignature(val);
    else if (key === 'committer' && committer === undefined) committer = parseSignature(val);
  }
  if (tree === undefined || author === undefined || committer === undefined) {
    throw new InvalidObjectError('commit without tree, author or committer');
  }
  return { tree, parents, author, committer, message: end < 0 ? '' : text.slice(end + 2) };
}
