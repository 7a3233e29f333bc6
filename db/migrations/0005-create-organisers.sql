-- The organiser console: accounts, their sessions (express-session's store), and the audit log.
CREATE TABLE organisers (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'organiser', 'viewer')),
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

-- Only the console has sessions: the public site keeps none.
CREATE TABLE sessions (
  sid TEXT PRIMARY KEY,
  data TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Who did what, when. `details` is JSON and never holds a password.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  organiser_id INTEGER REFERENCES organisers(id),
  action TEXT NOT NULL,
  subject TEXT,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Set when the retention job blanks a signature's personal data, so it is done once.
ALTER TABLE signatures ADD COLUMN anonymised_at INTEGER;

-- The dashboard's counts by state and the exports' petition/state filters; the chart's days.
CREATE INDEX signatures_by_petition_state ON signatures (petition_id, state);
CREATE INDEX signatures_validated_by_day ON signatures (petition_id, validated_at) WHERE state = 'validated';
