import { runControl } from '../../control/index.js';
import { args, string0, type Outcome, type Request, type RequestContext } from '../request.js';

/** CONTROL `<command>\0<arg>\0…` (privileged): the commands of control/index.ts. */
export function control(ctx: RequestContext, r: Request): Outcome {
  const reply = runControl(ctx.xs.control, args(r));
  return typeof reply === 'string' ? string0(ctx, r, reply) : reply.error;
}
