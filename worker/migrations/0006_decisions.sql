-- Next best action: the marketer's actions, what each has learned per segment, and every decision
-- with its probability, so a new policy can be judged offline (inverse propensity scoring).
CREATE TABLE actions (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  definition TEXT NOT NULL, -- JSON, validated by actionSchema on save
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;

-- Beta(1 + successes, 1 + failures) per action and segment; updated on ingest of Offer events.
CREATE TABLE arms (
  site_id TEXT NOT NULL,
  action_id TEXT NOT NULL,
  segment_key TEXT NOT NULL,
  successes INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, action_id, segment_key)
) WITHOUT ROWID;

CREATE TABLE decisions (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  placement TEXT NOT NULL,
  action_id TEXT,             -- null: nothing shown (holdout or nothing eligible)
  segment_key TEXT NOT NULL,
  probability REAL NOT NULL,
  propensity REAL NOT NULL,
  holdout INTEGER NOT NULL,
  context TEXT NOT NULL,      -- JSON DecisionContext
  created_at INTEGER NOT NULL,
  reward INTEGER NOT NULL DEFAULT 0, -- 1 once accepted
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX decisions_by_visitor ON decisions (site_id, anonymous_id, created_at);
