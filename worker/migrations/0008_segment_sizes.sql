-- Daily segment sizes, so reports can show how segments grow and shrink.
CREATE TABLE segment_sizes (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,          -- YYYY-MM-DD (UTC)
  segment TEXT NOT NULL,
  shoppers INTEGER NOT NULL,
  sampled INTEGER NOT NULL,   -- how many recent shoppers the count comes from
  PRIMARY KEY (site_id, day, segment)
) WITHOUT ROWID;
