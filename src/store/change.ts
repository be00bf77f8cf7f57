/** What one request did to the store: the unit that commits record, transactions replay and
 *  the conflict blame remembers. */
export interface Change {
  readonly op: 'write' | 'mkdir' | 'rm' | 'set_perms';
  /** Absolute, canonical path (reference §3). */
  readonly path: string;
  /** The value written (write) or the new permission list (set_perms), as stored: latin1,
   *  one char per byte; perms NUL-terminated entries as on the wire. */
  readonly arg?: string;
}
