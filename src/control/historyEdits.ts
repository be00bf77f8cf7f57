import { commitIdOf } from '../history/commitId.js';
import { commitSummary } from '../history/commitMessage.js';
import { diffTrees, everyNode } from '../history/diff.js';
import { diffJson, diffLine } from '../history/format.js';
import { tagNameProblem } from '../history/tagName.js';
import { lookup } from '../store/tree.js';
import { fail, isFailure, pathArg, pathLabel, revisionArg, type HistoryCommand } from './historyArgs.js';

/**
 * The `history` subcommands that change something: tags (named commits, kept whatever the
 * retention, written to the mirror as `refs/tags/<name>`) and `revert-to`. Each refuses what
 * an operator would regret: moving a tag without `--force`, a tag name that shadows a branch
 * or git would refuse (tagName.ts), a revert without a path scope listed first (`--dry-run`).
 */

export const tag: HistoryCommand = {
  name: 'tag',
  usage: 'NAME [REV] [--force]',
  run(ctx, a) {
    const name = a.positional[0];
    if (name === undefined) return fail('EINVAL', 'NAME is missing');
    const problem = tagNameProblem(name);
    if (problem !== null) return fail('EINVAL', `NAME "${name}": ${problem}`);
    const c = revisionArg(ctx, a.positional[1] ?? 'HEAD', 'REV');
    if (isFailure(c)) return c;
    const tags = ctx.store.history.tags;
    const old = tags.get(name);
    if (old !== undefined && old !== c && !a.force) {
      return fail('EEXIST', `NAME "${name}": the tag exists, at ${commitIdOf(old)}; --force moves it`);
    }
    // Refs are files: `a` and `a/b` cannot both exist (git refuses it too).
    for (const other of tags.keys()) {
      if (other !== name && (other.startsWith(`${name}/`) || name.startsWith(`${other}/`))) return fail('EEXIST', `NAME "${name}": conflicts with the tag ${other} (a ref cannot be both a file and a directory)`);
    }
    tags.set(name, c);
    const moved = old !== undefined && old !== c ? commitIdOf(old) : null;
    if (a.json) return JSON.stringify({ tag: name, commit: commitIdOf(c), moved });
    return commitIdOf(c);
  },
};

export const untag: HistoryCommand = {
  name: 'untag',
  usage: 'NAME',
  run(ctx, a) {
    const name = a.positional[0];
    if (name === undefined) return fail('EINVAL', 'NAME is missing');
    const c = ctx.store.history.tags.get(name);
    if (c === undefined) return fail('ENOENT', `NAME "${name}": no such tag (see xsgit tags)`);
    ctx.store.history.tags.delete(name);
    return a.json ? JSON.stringify({ tag: name, commit: commitIdOf(c) }) : 'OK';
  },
};

export const tags: HistoryCommand = {
  name: 'tags',
  usage: '',
  run(ctx, a) {
    const rows = [...ctx.store.history.tags].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([t, c]) => ({ tag: t, commit: commitIdOf(c), summary: commitSummary(c) }));
    if (a.json) return JSON.stringify(rows);
    return rows.map((r) => `${r.tag} ${r.commit} ${r.summary}\n`).join('');
  },
};

export const revertTo: HistoryCommand = {
  name: 'revert-to',
  usage: 'REV [PATH] [--dry-run]',
  run(ctx, a) {
    const target = revisionArg(ctx, a.positional[0], 'REV');
    if (isFailure(target)) return target;
    const text = a.positional[1];
    const p = pathArg(text);
    if (isFailure(p)) return p;
    const head = ctx.store.history.head;
    const id = commitIdOf(target);
    if (lookup(head.root, p) === undefined && lookup(target.root, p) === undefined) {
      return fail('ENOENT', `${pathLabel(text, p)}: exists neither now nor at REV ${a.positional[0]} (${id.slice(0, 12)})`);
    }
    const diffs = everyNode(diffTrees(head.root, target.root, p));
    const revert = { commit: id, path: p };
    if (a.dryRun || diffs.length === 0) {
      if (a.json) return JSON.stringify({ commit: null, revert, dryRun: a.dryRun, diff: diffs.map(diffJson) });
      return diffs.length === 0 ? `nothing to revert: ${p} is already as at ${id.slice(0, 12)}\n` : diffs.map((d) => diffLine(d) + '\n').join('');
    }
    const err = ctx.revertTo(target, p);
    if (err !== null) return fail(err, `reverting ${p} to ${id.slice(0, 12)} failed: ${err}`);
    const made = commitIdOf(ctx.store.history.head);
    if (a.json) return JSON.stringify({ commit: made, revert, dryRun: false, diff: diffs.map(diffJson) });
    return `${made}\n${diffs.map((d) => diffLine(d) + '\n').join('')}`;
  },
};
