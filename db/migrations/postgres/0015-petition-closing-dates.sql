-- A petition may close itself at a set time (epoch ms). Until the background step marks it closed,
-- readers treat an open petition whose time has come as closed.
ALTER TABLE petitions ADD COLUMN closes_at BIGINT;
-- The background step's question: the open petitions whose closing time has come.
CREATE INDEX petitions_closing ON petitions (closes_at) WHERE state = 'open' AND closes_at IS NOT NULL;
