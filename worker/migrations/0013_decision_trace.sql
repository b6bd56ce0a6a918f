-- The marketer's account of each decision (conditions met, propensity × value × lever, every rival
-- and why it lost), kept apart from the reasons the shopper reads. Null for decisions logged before.
ALTER TABLE decisions ADD COLUMN trace TEXT; -- JSON Trace (worker/decide.ts)
