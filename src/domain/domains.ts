/** One domain the daemon knows: introduced by the toolstack (or dom0, always there). */
export interface Domain {
  readonly domid: number;
  /** The domain whose rights this stub domain acts with (SET_TARGET), or -1. */
  target: number;
}

/**
 * The domain table. Domain connections (rings, guest sockets) and quotas build on it; here it
 * answers what permissions need: whether a domid names a live domain.
 */
export class Domains {
  private readonly table = new Map<number, Domain>();

  constructor() {
    this.table.set(0, { domid: 0, target: -1 });
  }

  get(domid: number): Domain | undefined {
    return this.table.get(domid);
  }

  isLive(domid: number): boolean {
    return this.table.has(domid);
  }

  introduce(domid: number): { domain: Domain; fresh: boolean } {
    const old = this.table.get(domid);
    if (old !== undefined) return { domain: old, fresh: false };
    const domain: Domain = { domid, target: -1 };
    this.table.set(domid, domain);
    return { domain, fresh: true };
  }

  release(domid: number): boolean {
    return this.table.delete(domid);
  }

  list(): Domain[] {
    return [...this.table.values()];
  }
}
