-- What the delegations answered (issue: close the loop). An organiser records each answer: which
-- delegation (a target), about a petition or a demand (exactly one), the day it arrived, how, its
-- text or a summary, an optional public link, and whether it is shown on the public pages.
CREATE TABLE delegation_responses (
  id INTEGER PRIMARY KEY,
  target_id INTEGER NOT NULL REFERENCES targets(id),
  petition_id INTEGER REFERENCES petitions(id),
  demand_id INTEGER REFERENCES demands(id),
  -- YYYY-MM-DD: the day it was received, never after the day it was recorded.
  received_on TEXT NOT NULL CHECK (length(received_on) = 10),
  channel TEXT NOT NULL
    CHECK (channel IN ('email', 'letter', 'meeting', 'phone', 'public_statement', 'other')),
  body TEXT NOT NULL,
  link TEXT,
  is_public INTEGER NOT NULL DEFAULT 1 CHECK (is_public IN (0, 1)),
  created_by INTEGER REFERENCES organisers(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK ((petition_id IS NULL) <> (demand_id IS NULL))
);
CREATE INDEX delegation_responses_by_petition ON delegation_responses (petition_id) WHERE petition_id IS NOT NULL;
CREATE INDEX delegation_responses_by_demand ON delegation_responses (demand_id) WHERE demand_id IS NOT NULL;
CREATE INDEX delegation_responses_by_target ON delegation_responses (target_id);
