import { Bisection } from '../history/bisect.js';
import type { Commit } from '../history/commit.js';
import { commitIdOf } from '../history/commitId.js';
import { commitJson, commitLine, escapeValue } from '../history/format.js';
import { firstParents } from '../history/revs.js';
import { lookup } from '../store/tree.js';
import { fail, isFailure, pathArg, pathLabel, revisionPair, type Failure, type HistoryCommand } from './historyArgs.js';

/** The commits after `good` up to `bad` on main's first-parent line, oldest first (what
 *  bisection searches), or why there are none; `texts`: the arguments as given. */
export function bisectLine([good, bad]: readonly [Commit, Commit], texts: readonly (string | undefined)[]): Commit[] | Failure {
  const short = (c: Commit) => commitIdOf(c).slice(0, 12);
  if (good === bad) return fail('EINVAL', `--good and --bad name the same commit (${short(good)}): nothing lies between`);
  const line = firstParents(bad, good).reverse();
  if (line.length === 0 || line[0].parents[0] !== good) return fail('EINVAL', `--good ${texts[0]} (${short(good)}) is not on the first-parent line behind --bad ${texts[1]} (${short(bad)}) in the retained history`);
  return line;
}

/**
 * `history bisect GOOD BAD PATH VALUE`: the first commit on main's first-parent line after
 * GOOD, up to BAD, where PATH does not hold VALUE (byte for byte). As `git bisect` does, both
 * ends are judged first: GOOD must hold VALUE and BAD must not, else there is no answer (the
 * expectation is wrong, the path misspelt or missing) and the reply says which end failed.
 */
export const bisect: HistoryCommand = {
  name: 'bisect',
  usage: 'GOOD BAD PATH VALUE',
  run(ctx, a) {
    const [g, b, pathText, value] = a.positional;
    const ends = revisionPair(ctx, a.positional, ['--good', '--bad']);
    if (isFailure(ends)) return ends;
    const [good, bad] = ends;
    if (pathText === undefined || value === undefined) return fail('EINVAL', '--expect PATH=VALUE is missing');
    const p = pathArg(pathText);
    if (isFailure(p)) return p;
    const label = pathLabel(pathText, p);
    const state = (c: Commit): string => {
      const n = lookup(c.root, p);
      return n === undefined ? 'does not exist' : `holds "${escapeValue(n.value)}"`;
    };
    const isGood = (c: Commit) => lookup(c.root, p)?.value === value;
    const short = (c: Commit) => commitIdOf(c).slice(0, 12);
    if (!isGood(good)) return fail('EINVAL', `--good ${g} (${short(good)}) is not good: ${label} ${state(good)} there; good means it holds "${escapeValue(value)}"`);
    if (isGood(bad)) return fail('EINVAL', `--bad ${b} (${short(bad)}) is not bad: ${label} already holds "${escapeValue(value)}" there`);
    const line = bisectLine(ends, a.positional);
    if (isFailure(line)) return line;
    const run = new Bisection(line);
    for (let i = run.next(); i !== null; i = run.next()) run.mark(i, isGood(line[i]) ? 'good' : 'bad');
    const r = run.result();
    if (!('first' in r)) return fail('EIO', 'no single first bad commit'); // no skips here
    return a.json ? JSON.stringify(commitJson(r.first)) : commitLine(r.first) + '\n';
  },
};
