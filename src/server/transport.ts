/** A byte stream to one client: a Unix socket today; a guest's ring page plugs in the same way. */
export interface Transport {
  write(data: Buffer): void;
  /** Bytes written but not yet taken by the peer (back-pressure). */
  readonly pending: number;
  close(): void;
}
