import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * The daemon's pid file (`--pid-file`, Debian's /run/xenstore.pid): written before the
 * daemon listens, so a path that cannot be written stops it before it serves anything
 * (errors are Node's: ENOENT for a missing directory, EACCES, EISDIR…); removed on stop only
 * while it still holds this process's pid (a second daemon started meanwhile by mistake, or
 * a successor, keeps its own).
 */
export class PidFile {
  private written = false;

  constructor(readonly path: string) {}

  /** Writes `<pid>\n` (mode 0644, as the C daemon's). */
  write(): void {
    writeFileSync(this.path, `${process.pid}\n`, { mode: 0o644 });
    this.written = true;
  }

  /** Removes the file if it still names this process. */
  remove(): void {
    if (!this.written) return;
    this.written = false;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return;
    }
    if (text.trim() === String(process.pid)) rmSync(this.path, { force: true });
  }
}
