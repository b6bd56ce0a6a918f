-- What D1 keeps per event for the whole retention period, leaner (docs/scaling.md).

-- A shopper's items are few enough to sort when read; the index on last_ts cost almost as many
-- bytes as the table itself.
DROP INDEX visitor_items_recent;

-- Sessions leave D1 with their last raw event: each archived event carries its session's context.
-- How many sessions a browser began each day stays here, for the browser's session count; each
-- session notes the day it was counted on, so the fold counts it once, and moves it if an earlier
-- event arrives later.
ALTER TABLE visitor_days ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN counted_day INTEGER;
UPDATE sessions SET counted_day = started_at / 86400000;
UPDATE visitor_days SET sessions = (
  SELECT COUNT(*) FROM sessions s
  WHERE s.site_id = visitor_days.site_id AND s.anonymous_id = visitor_days.anonymous_id
    AND s.started_at >= visitor_days.day * 86400000 AND s.started_at < (visitor_days.day + 1) * 86400000);

-- Archive objects are listed on shopper-days without the prefix and suffix every key of the site shares
-- (cut by position: an event id, part of the key, may itself contain '.ndjson').
UPDATE visitor_days SET archived = (
  SELECT json_group_array(substr(k.value, length('events/' || visitor_days.site_id || '/') + 1,
                                 length(k.value) - length('events/' || visitor_days.site_id || '/') - length('.ndjson')))
  FROM json_each(visitor_days.archived) k)
WHERE archived IS NOT NULL;
