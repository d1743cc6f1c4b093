import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file loads its own MuJoCo WASM module; keep files in separate forks.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
