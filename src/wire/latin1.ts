/**
 * Node's Buffer has fast latin1 slice/write methods that @types/node does not declare; the
 * request path uses them to move bytes into strings (one char per byte) without the
 * argument-normalising layers of toString/write.
 */
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    latin1Write(s: string, offset: number): number;
  }
}

export {};
