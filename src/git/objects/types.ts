/** The kinds of git object xsgit writes or reads. */
export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

/** One git object: its id (40 hex digits of SHA-1), type and body (the bytes after the header). */
export interface GitObject {
  readonly id: string;
  readonly type: ObjectType;
  readonly body: Buffer;
}
