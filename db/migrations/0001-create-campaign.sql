-- Countries, the campaign and its demands, petitions, and their targets.
CREATE TABLE countries (
  code TEXT PRIMARY KEY CHECK (length(code) = 2 AND code = upper(code)),
  nato_member INTEGER NOT NULL DEFAULT 0 CHECK (nato_member IN (0, 1)),
  nato_joined INTEGER
);

CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  source_author TEXT NOT NULL,
  source_title TEXT NOT NULL,
  source_publication TEXT NOT NULL,
  source_year INTEGER
);

CREATE TABLE campaign_texts (
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  lang TEXT NOT NULL,
  title TEXT NOT NULL,
  intro TEXT NOT NULL,
  source_role TEXT NOT NULL,
  PRIMARY KEY (campaign_id, lang)
);

CREATE TABLE demands (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  slug TEXT NOT NULL UNIQUE,
  position INTEGER NOT NULL
);

CREATE TABLE demand_texts (
  demand_id INTEGER NOT NULL REFERENCES demands(id) ON DELETE CASCADE,
  lang TEXT NOT NULL,
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  PRIMARY KEY (demand_id, lang)
);

CREATE TABLE petitions (
  id INTEGER PRIMARY KEY,
  demand_id INTEGER REFERENCES demands(id),
  slug TEXT NOT NULL UNIQUE,
  goal INTEGER NOT NULL CHECK (goal > 0),
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  created_at INTEGER NOT NULL,
  closed_at INTEGER
);

CREATE TABLE petition_texts (
  petition_id INTEGER NOT NULL REFERENCES petitions(id) ON DELETE CASCADE,
  lang TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (petition_id, lang)
);

-- One addressee. A country may have several (delegation to NATO, Parliamentary Assembly delegation,
-- minister); the NATO delegation is the default. The address is optional: none is ever invented.
CREATE TABLE targets (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'nato_delegation'
    CHECK (kind IN ('nato_delegation', 'parliamentary_assembly', 'minister')),
  country_code TEXT NOT NULL REFERENCES countries(code),
  name TEXT NOT NULL,
  name_is_placeholder INTEGER NOT NULL DEFAULT 0 CHECK (name_is_placeholder IN (0, 1)),
  languages TEXT NOT NULL DEFAULT '',
  email TEXT,
  website TEXT,
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX targets_one_default_per_country ON targets (country_code) WHERE is_default = 1;

-- Petition-wide targets, on top of the default "delegation of the signer's country".
CREATE TABLE petition_targets (
  petition_id INTEGER NOT NULL REFERENCES petitions(id) ON DELETE CASCADE,
  target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
  PRIMARY KEY (petition_id, target_id)
);
