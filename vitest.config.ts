import { defineConfig } from 'vitest/config';

// Every test file starts its own daemon(s) in a fresh temp run directory, so files run
// in parallel (one forked worker each). Against the C peer: XSGIT_TEST_PEER=c npm test.
export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: true,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    teardownTimeout: 15_000,
    projects: [
      { extends: true, test: { name: 'xsgit', include: ['test/**/*.test.ts'] } },
      // The protocol suite once more without history: behaviour must not depend on it.
      { extends: true, test: { name: 'history-off', include: ['test/protocol/**/*.test.ts'], env: { XSGIT_TEST_DAEMON_ARGS: '--history off' } } },
    ],
  },
});
