import { Header, Pax } from 'tar';

const BLOCK = 512;
/** GNU tar's default record: archives are padded to a multiple of it. */
const RECORD = 20 * BLOCK;

/**
 * A POSIX tar archive built in memory, synchronously: headers and pax extended headers (for
 * names past ustar's 100+155 bytes) are encoded by node-tar's Header and Pax, the tar
 * library npm itself uses; this class only lays the blocks out. Entries are owned by root
 * (uid/gid 0), files 0644, directories 0755, all with one mtime.
 */
export class TarArchive {
  private readonly blocks: Buffer[] = [];
  private size = 0;

  constructor(private readonly mtime: Date) {}

  /** A directory entry (`name` gets its trailing `/`). */
  directory(name: string): void {
    this.entry(name.endsWith('/') ? name : `${name}/`, 'Directory', null);
  }

  /** A regular file; `data` may be a latin1 string (one char per byte, as node values are). */
  file(name: string, data: Buffer | string): void {
    this.entry(name, 'File', typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  private entry(path: string, type: 'File' | 'Directory', data: Buffer | null): void {
    const size = data === null ? 0 : data.length;
    const header = new Header({ path, type, size, mode: type === 'Directory' ? 0o755 : 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: this.mtime });
    const block = Buffer.alloc(BLOCK);
    header.encode(block, 0);
    if (header.needPax) this.push(new Pax({ path, mtime: this.mtime }, false).encode());
    this.push(block);
    if (data !== null && size > 0) {
      this.push(data);
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) this.push(Buffer.alloc(pad));
    }
  }

  private push(b: Buffer): void {
    this.blocks.push(b);
    this.size += b.length;
  }

  /** The archive: the entries, two zero blocks, zeros up to a whole record. */
  finish(): Buffer {
    const end = this.size + 2 * BLOCK;
    this.push(Buffer.alloc(end - this.size + ((RECORD - (end % RECORD)) % RECORD)));
    return Buffer.concat(this.blocks, this.size);
  }
}
