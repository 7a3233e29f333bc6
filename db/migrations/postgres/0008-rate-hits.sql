-- PostgreSQL twin of db/migrations/0008-rate-hits.sql (buckets are epoch seconds, BIGINT).
-- Rate windows shared by every process on the database (several web workers, or several
-- machines on PostgreSQL): the hits of one key (a hashed IP × petition or demand) counted per
-- second. A limit over N seconds sums the last N buckets; buckets older than the longest window are
-- pruned as hits come in.
CREATE TABLE rate_hits (
  key TEXT NOT NULL,
  bucket BIGINT NOT NULL,
  hits INTEGER NOT NULL,
  PRIMARY KEY (key, bucket)
);
CREATE INDEX rate_hits_by_bucket ON rate_hits (bucket);
