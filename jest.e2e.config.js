/** Browser tests: Debian's Chromium through playwright-core, against the real server. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  roots: ['<rootDir>/tests'],
  testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'],
  testTimeout: 60000,
  maxWorkers: 1,
};
