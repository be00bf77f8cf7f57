/**
 * The guest-facing suites over rings: a GuestDaemon (test/domains/guest.ts) whose guests
 * reach xsgit through their ring pages on xensim. xsgit runs with `--xen` on a simulated
 * machine; relay.py plays each guest kernel's xenbus device, exposing the guest's ring as
 * a Unix socket, so the suites' clients (Client, RawConn, Debian's tools, pyxs) are
 * unchanged. Selected with XSGIT_TEST_GUESTS=ring (`npm run test:ring`).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestHarness, introduceGuest, type GuestDaemon } from '../domains/guest.js';
import { ensureXensim, PYTHON, startXsgitOnXensim, XENSIM_SRC } from './xensim.js';

const RELAY_PY = fileURLToPath(new URL('./relay.py', import.meta.url));

/** relay.py, driven line by line. */
class Relay {
  private buf = '';
  private waiting: ((line: string) => void)[] = [];
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  static start(build: string, xenDir: string, sockets: string): Relay {
    const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_BUILD: build };
    const child = spawn(PYTHON, [RELAY_PY, '--xensim', XENSIM_SRC, '--dir', xenDir, '--sockets', sockets], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    return new Relay(child);
  }

  async cmd(line: string): Promise<string[]> {
    const got = new Promise<string>((ok) => this.waiting.push(ok));
    this.child.stdin!.write(`${line}\n`);
    const reply = await got;
    if (!reply.startsWith('ok')) throw new Error(`relay: ${line}: ${reply}`);
    return reply.split(' ').slice(1);
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

export async function startRingGuestDaemon(args: string[] = []): Promise<GuestDaemon> {
  const x = await ensureXensim();
  if ('skip' in x) throw new Error(`XSGIT_TEST_GUESTS=ring: ${x.skip}`);
  const d = await startXsgitOnXensim(x.build, args);
  const sockets = mkdtempSync(join(tmpdir(), 'xsgit-relay-'));
  const relay = Relay.start(x.build, d.xenDir, sockets);
  return guestHarness(d.handle!, await d.handle!.connect(), (domid) => join(sockets, String(domid), 'socket'), {
    introduce: async (dom0, domid) => {
      const [mfn, port] = await relay.cmd(`create ${domid}`);
      await introduceGuest(dom0, domid, Number(mfn), Number(port));
      await relay.cmd(`attach ${domid}`);
    },
    stop: async () => {
      relay.stop();
      await d.stop();
      rmSync(sockets, { recursive: true, force: true });
    },
  });
}
