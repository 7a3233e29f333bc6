/**
 * The integration tests again, on PostgreSQL: each test file gets a database of its own on the server
 * at TEST_DATABASE_URL (by default the cluster `.ci/postgres.sh start` runs on loopback).
 * Only the files below run on both databases so far; each moves here as its repositories do.
 */
const base = require('./jest.config.js');

process.env.TEST_DATABASE_URL ??= 'postgres://undersigned@127.0.0.1:54329/undersigned';

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/tests/integration/store.test.ts',
    '<rootDir>/tests/integration/repositories.test.ts',
    '<rootDir>/tests/integration/rateLimiter.test.ts',
    '<rootDir>/tests/integration/lettersRepositories.test.ts',
    '<rootDir>/tests/integration/consoleRepositories.test.ts',
    '<rootDir>/tests/integration/consoleErasure.test.ts',
    '<rootDir>/tests/integration/mailRepositories.test.ts',
    '<rootDir>/tests/integration/journeys.test.ts',
    '<rootDir>/tests/integration/sharedRepositories.test.ts',
    '<rootDir>/tests/integration/signingCrash.test.ts',
    '<rootDir>/tests/integration/webConcurrency.test.ts',
    '<rootDir>/tests/integration/outboxLeases.test.ts',
    '<rootDir>/tests/integration/worker.test.ts',
    '<rootDir>/tests/integration/deliverCli.test.ts',
    '<rootDir>/tests/integration/workerCrash.test.ts',
    '<rootDir>/tests/integration/shutdown.test.ts',
    '<rootDir>/tests/integration/admin-roles.test.ts',
    '<rootDir>/tests/integration/petition-page-cache.test.ts',
    '<rootDir>/tests/integration/admin-signature-search.test.ts',
    '<rootDir>/tests/integration/admin-login-sessions.test.ts',
    '<rootDir>/tests/integration/mail.test.ts',
    '<rootDir>/tests/integration/admin-dashboard.test.ts',
    '<rootDir>/tests/integration/audit.test.ts',
    '<rootDir>/tests/integration/outboxRetries.test.ts',
    '<rootDir>/tests/integration/site.test.ts',
    '<rootDir>/tests/integration/admin-exports.test.ts',
    '<rootDir>/tests/integration/cli-plurals.test.ts',
    '<rootDir>/tests/integration/signing-probes.test.ts',
    '<rootDir>/tests/integration/email-lists.test.ts',
    '<rootDir>/tests/integration/form-round-trips.test.ts',
    '<rootDir>/tests/integration/outboxPipeline.test.ts',
    '<rootDir>/tests/integration/trust-proxy.test.ts',
    '<rootDir>/tests/integration/setup.test.ts',
    '<rootDir>/tests/integration/ops.test.ts',
    '<rootDir>/tests/integration/admin-campaign.test.ts',
    '<rootDir>/tests/integration/erasure.test.ts',
    '<rootDir>/tests/integration/retention.test.ts',
    '<rootDir>/tests/integration/admin-signatures.test.ts',
    '<rootDir>/tests/integration/signing.test.ts',
    '<rootDir>/tests/integration/letters.test.ts',
    '<rootDir>/tests/integration/delivery.test.ts',
    '<rootDir>/tests/integration/public-pages.test.ts',
  ],
};
