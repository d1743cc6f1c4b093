import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Build dist/ once: evaluation workers and the CLI run as compiled JavaScript.
    globalSetup: ['test/global-setup.ts'],
    // Each file loads its own MuJoCo WASM module; keep files in separate forks.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
