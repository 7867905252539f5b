import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own servers on free ports; two cores do not gain from more workers.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
