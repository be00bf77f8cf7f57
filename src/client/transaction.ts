import type { Value } from './types.js';

/** The client operations a Transaction binds to its tx_id (Client implements them). */
export interface TransactionClient {
  read(path: string, tx?: number): Promise<Buffer>;
  readString(path: string, tx?: number): Promise<string>;
  exists(path: string, tx?: number): Promise<boolean>;
  write(path: string, value: Value, tx?: number): Promise<void>;
  mkdir(path: string, tx?: number): Promise<void>;
  rm(path: string, tx?: number): Promise<void>;
  directory(path: string, tx?: number): Promise<string[]>;
  getPerms(path: string, tx?: number): Promise<string[]>;
  setPerms(path: string, perms: readonly string[], tx?: number): Promise<void>;
  transactionEnd(tx: number, commit: boolean): Promise<void>;
}

/** A transaction handle: the client's operations bound to one tx_id. */
export class Transaction {
  constructor(
    readonly client: TransactionClient,
    readonly id: number,
  ) {}

  read(path: string): Promise<Buffer> {
    return this.client.read(path, this.id);
  }
  readString(path: string): Promise<string> {
    return this.client.readString(path, this.id);
  }
  exists(path: string): Promise<boolean> {
    return this.client.exists(path, this.id);
  }
  write(path: string, value: Value): Promise<void> {
    return this.client.write(path, value, this.id);
  }
  mkdir(path: string): Promise<void> {
    return this.client.mkdir(path, this.id);
  }
  rm(path: string): Promise<void> {
    return this.client.rm(path, this.id);
  }
  directory(path: string): Promise<string[]> {
    return this.client.directory(path, this.id);
  }
  getPerms(path: string): Promise<string[]> {
    return this.client.getPerms(path, this.id);
  }
  setPerms(path: string, perms: readonly string[]): Promise<void> {
    return this.client.setPerms(path, perms, this.id);
  }
  /** TRANSACTION_END T. Rejects with XsError EAGAIN on conflict. */
  commit(): Promise<void> {
    return this.client.transactionEnd(this.id, true);
  }
  /** TRANSACTION_END F. */
  abort(): Promise<void> {
    return this.client.transactionEnd(this.id, false);
  }
}

