/**
 * The CONTROL command groups beyond control.ts's own, in registration order: each module
 * registers itself when imported, after the group it extends.
 */
import './historyControl.js';
import './exportJobs.js';
import './snapshotControl.js';
