import type { ControlCommand, ControlContext } from './context.js';
import { QUOTA_HELP, QUOTA_NAMES, quotaName, quotaValue, type QuotaName } from '../domain/quota.js';

/**
 * CONTROL `quota` and `quota-soft` (reference §2.1, C control.c), as xenstore-control sends
 * them:
 *   quota                   the daemon-wide values, one line each: `%-17s: %8d %s`
 *   quota set <name> <val>  sets a daemon-wide value (val ≥ 1; 0, "off", is SET_QUOTA's job)
 *   quota <domid>           what the domain uses and may use: `%-17s: %8d / %d`
 *   quota max               the largest use of each quota over all domains, and by whom
 *   quota-soft [set memory <val>]   the same for the soft memory quota
 */

const USED = ['nodes', 'watches', 'transactions', 'outstanding', 'memory'] as const;

function line(name: string, value: number, rest: string): string {
  return `${name.padEnd(17)}: ${String(value).padStart(8)} ${rest}\n`;
}

function globalTable(ctx: ControlContext, names: readonly QuotaName[]): string {
  return names.map((n) => line(n, ctx.domains.quota.get(n), QUOTA_HELP[n])).join('');
}

export const quota: ControlCommand = {
  name: 'quota',
  args: '[set <name> <val>|<domid>|max [-r]]',
  help: 'show or set the quotas',
  run: (ctx, args) => {
    if (args.length === 0) return globalTable(ctx, QUOTA_NAMES.filter((n) => n !== 'soft-memory'));
    if (args[0] === 'set') {
      if (args.length !== 3) return { error: 'EINVAL' };
      const name = quotaName(args[1]);
      const value = quotaValue(args[2]);
      if (name === null || value === null || value < 1) return { error: 'EINVAL' };
      ctx.domains.quota.set(name, value);
      ctx.admission.quotasChanged();
      return 'OK';
    }
    if (args[0] === 'max') {
      let out = '';
      for (const name of USED) {
        let most = 0;
        let who = -1;
        for (const dom of ctx.domains.list()) {
          if (dom.domid === 0) continue;
          const v = ctx.admission.usageOf(dom)[name];
          if (v > most) {
            most = v;
            who = dom.domid;
          }
        }
        out += line(name, most, who < 0 ? '' : `(domain ${who})`);
      }
      return out;
    }
    if (!/^[0-9]{1,5}$/.test(args[0]) || args.length !== 1) return { error: 'EINVAL' };
    const dom = ctx.domains.get(Number(args[0]));
    if (dom === undefined) return { error: 'ENOENT' };
    const used = ctx.admission.usageOf(dom);
    let out = '';
    for (const name of USED) out += line(name, used[name], `/ ${dom.quota.get(name)}`);
    let dropped = 0;
    for (const c of dom.conns) dropped += c.droppedEvents;
    out += line('conflicts-blamed', dom.credit.blamed, '');
    out += line('events-dropped', dropped, '');
    return out;
  },
};

export const quotaSoft: ControlCommand = {
  name: 'quota-soft',
  args: '[set memory <val>]',
  help: 'show or set the soft memory quota',
  run: (ctx, args) => {
    if (args.length === 0) return line('memory', ctx.domains.quota.get('soft-memory'), QUOTA_HELP['soft-memory']);
    if (args.length !== 3 || args[0] !== 'set' || args[1] !== 'memory') return { error: 'EINVAL' };
    const value = quotaValue(args[2]);
    if (value === null || value < 1) return { error: 'EINVAL' };
    ctx.domains.quota.set('soft-memory', value);
    return 'OK';
  },
};
