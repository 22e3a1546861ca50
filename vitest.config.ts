import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    globalSetup: ['./test/s3/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
