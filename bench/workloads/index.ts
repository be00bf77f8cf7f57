/**
 * The workload registry, in run order. Growth runs last because it leaves up to a million nodes
 * in every daemon. To add a workload: a file in this folder exporting a `Workload`, then a line
 * here.
 */
import type { Workload } from '../types.js';
import { contention } from './contention.js';
import { growth } from './growth.js';
import { idle } from './idle.js';
import { bootstorm } from './bootstorm.js';
import { history } from './history.js';
import { ring } from './ring.js';
import { throughput } from './throughput.js';
import { watch } from './watch.js';

export const WORKLOADS: readonly Workload[] = [throughput, contention, idle, watch, bootstorm, history, ring, growth];
