-- A/B tests of recommendation strategies and settings (worker/experiments/).

-- The site's experiments, as JSON (worker/experiments/config.ts): read with the site row, which
-- loadSite caches in KV, so a recommendation pays no extra read to know its slot's experiment.
ALTER TABLE sites ADD COLUMN experiments TEXT NOT NULL DEFAULT '[]';

-- The experiment and variant ('holdout' for the held-out share) that answered a recommendation:
-- clicks and order lines name the recommendation, so they reach its variant.
ALTER TABLE recommendations ADD COLUMN experiment_id TEXT;
ALTER TABLE recommendations ADD COLUMN variant TEXT;

-- One row per shopper exposed to an experiment, written at the first exposure, then kept up to
-- date by the fold: what the A/B report needs over weeks, after the raw events have left D1.
-- revenue counts every order after first_at (the fair A/B metric); attributed_* only the order
-- lines that carry a recommendation of this experiment's variant.
CREATE TABLE experiment_shoppers (
  site_id TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  variant TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  impressions INTEGER NOT NULL DEFAULT 0,
  clicks INTEGER NOT NULL DEFAULT 0,
  orders INTEGER NOT NULL DEFAULT 0,
  revenue REAL NOT NULL DEFAULT 0,
  attributed_orders INTEGER NOT NULL DEFAULT 0,
  attributed_revenue REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, experiment_id, anonymous_id)
) WITHOUT ROWID;
-- The fold and erasure find a shopper's rows by browser.
CREATE INDEX experiment_shoppers_browser ON experiment_shoppers (site_id, anonymous_id);

-- When an experiment stopped: the fold counts nothing that happened after.
CREATE TABLE experiment_stops (
  site_id TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  stopped_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, experiment_id)
) WITHOUT ROWID;
