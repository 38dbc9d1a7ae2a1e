// Two tiers: `unit` is pure logic with no I/O and runs in seconds; `integration` talks to real
// servers (Kafka, registry, Postgres, SMTP, Prometheus) that test/integration/global-setup.ts provides.
// Type checking is `npm run typecheck`'s job; tests only transpile (fast, file by file).
const transform = {
  '^.+\\.ts$': ['ts-jest', { transpilation: true, tsconfig: { module: 'commonjs', moduleResolution: 'node10', target: 'es2022', esModuleInterop: true } }],
};

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/{api,bench,bin,cli,console,lib,stack,scripts,producers,processors,sinks,schemas,models,grafana,test}/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/**/*.itest.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      setupFiles: ['<rootDir>/test/integration/setup-file.js'],
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
      slowTestThreshold: 60,
    },
  ],
  testTimeout: 180_000,
};
