/** Types shared by the client's modules. */

export interface WatchEvent {
  /** The event path (the changed path; relative if the watch was registered relative). */
  path: string;
  token: string;
}

/** A value to write: a string (written as UTF-8) or raw bytes. */
export type Value = string | Uint8Array;
