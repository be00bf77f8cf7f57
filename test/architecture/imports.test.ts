/**
 * The import structure (issue 9): no cycle between files, none between folders, and every
 * folder of src/ imports only folders below it in LAYERS — the architecture the README draws.
 * Imports are read from the sources as text (`import … from './x.js'`, `export … from`),
 * type-only imports included: they tie the modules' meaning as much as values do.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon.js';

/** src/'s folders from the bottom up: each may import only itself and those before it. */
const LAYERS = ['util', 'wire', 'store', 'git', 'watch', 'domain', 'history', 'txn', 'mirror', 'client', 'transport', 'xen', 'control', 'server', 'service', 'cli'];

const SRC = join(REPO_ROOT, 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** file → the src files it imports (relative specifiers only). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  const spec = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|(?:^|\n)\s*import\s+'(\.[^']+)'/g;
  for (const f of sources(SRC)) {
    const text = readFileSync(f, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(spec)) deps.push(resolve(dirname(f), (m[1] ?? m[2]).replace(/\.js$/, '.ts')));
    g.set(f, deps);
  }
  return g;
}

/** The strongly connected components with more than one member (Tarjan, iterative enough
 *  for this size). */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.map((f) => relative(REPO_ROOT, f)).sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const folderOf = (f: string): string => relative(SRC, f).split('/')[0];

describe('the import structure of src/', () => {
  const g = graph();

  it('has no cycle between files', () => {
    expect(cycles(g)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const fg = new Map<string, string[]>();
    for (const [f, deps] of g) {
      const a = folderOf(f);
      const list = fg.get(a) ?? [];
      for (const d of deps) if (folderOf(d) !== a) list.push(folderOf(d));
      fg.set(a, list);
    }
    expect(cycles(fg)).toEqual([]);
  });

  it('imports only downwards, in the order of LAYERS; git/ is a library of its own', () => {
    const wrong: string[] = [];
    for (const [f, deps] of g) {
      const a = folderOf(f);
      expect(LAYERS, `src/${a} is not in LAYERS`).toContain(a);
      for (const d of deps) {
        const b = folderOf(d);
        if (a === b) continue;
        if (LAYERS.indexOf(b) > LAYERS.indexOf(a) || (a === 'git' && b !== 'util')) wrong.push(`${relative(REPO_ROOT, f)} -> src/${b}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
