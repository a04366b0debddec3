import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/setup/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // Integration and end-to-end tests run against the real services. The global setup
        // installs and starts the local stack (or reuses a running one, or external endpoints).
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/stack-setup.ts'],
          // Processes run in-process log at warn and above unless asked for more.
          env: { AIOPS_LOG_LEVEL: process.env.AIOPS_LOG_LEVEL ?? 'warn' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Files share one broker, collector and Prometheus; running them one at a time keeps
          // a 2-core machine from timing out on contention.
          fileParallelism: false,
        },
      },
    ],
  },
});
