#!/usr/bin/env node
/**
 * `npm run build` and npm's `prepare` (which npm runs on `npm install` in the clone, on
 * `npm pack`, and on `npm install -g <folder>`): compiles src/ and bench/ into dist/ with the
 * project's own TypeScript.
 *
 * `npm install -g <folder>` links the folder and runs its `prepare` without installing its
 * dependencies, so in a fresh clone TypeScript is missing (issue 16: `tsc: not found`) and so
 * are the runtime dependencies the linked command needs. In that case this installs the
 * locked dependencies into the folder first (what `npm install` there would do; lifecycle
 * scripts skipped, so this script is not re-entered), then builds. Exit status: tsc's, or 1.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function findTsc() {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

let tsc = findTsc();
if (tsc === null) {
  process.stderr.write(`xsgit build: TypeScript is not installed in ${root} (a linked \`npm install -g <folder>\`?); installing the locked dependencies there first\n`);
  // The npm that runs this script (npm_execpath), as a local install of this folder: npm's
  // own settings for the outer global install (npm_config_global, _prefix…) must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|prefix|location)$/i.test(k)));
  const npm = process.env.npm_execpath;
  const args = ['install', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--global=false'];
  const status = npm !== undefined && npm.endsWith('.js') ? run(process.execPath, [npm, ...args], env) : run('npm', args, env);
  tsc = findTsc();
  if (status !== 0 || tsc === null) {
    process.stderr.write('xsgit build: could not install TypeScript; run `npm install` in the clone, then `npm install -g .`\n');
    process.exit(1);
  }
}
process.exit(run(process.execPath, [tsc, '-p', 'tsconfig.json']));
