-- Each decision teaches its arm once: one impression, when the first Offer Shown naming it (and its
-- action) arrives from the browser it was made for, and one acceptance, from that browser too.
-- Times are our receipt times (received_at), not the browser's clock. An acceptance that arrives
-- before its impression waits here until the impression comes. The arm counts a shown decision as
-- a failure until it is accepted, then as a success; reward = 1 exactly when both times are set.
ALTER TABLE decisions ADD COLUMN shown_at INTEGER;
ALTER TABLE decisions ADD COLUMN accepted_at INTEGER;

-- Decisions from before: their outcomes from the browser's own offer events, and those the old
-- fold rewarded (their events may have expired) count as shown and accepted, as the arms do.
UPDATE decisions SET
  shown_at = COALESCE(
    (SELECT MIN(e.received_at) FROM events e
     WHERE e.site_id = decisions.site_id AND e.anonymous_id = decisions.anonymous_id AND e.type = 'Offer Shown'
       AND json_extract(e.properties, '$.decision_id') = decisions.id
       AND json_extract(e.properties, '$.action_id') = decisions.action_id),
    CASE WHEN reward = 1 THEN created_at END),
  accepted_at = COALESCE(
    (SELECT MIN(e.received_at) FROM events e
     WHERE e.site_id = decisions.site_id AND e.anonymous_id = decisions.anonymous_id AND e.type = 'Offer Accepted'
       AND json_extract(e.properties, '$.decision_id') = decisions.id
       AND json_extract(e.properties, '$.action_id') = decisions.action_id),
    CASE WHEN reward = 1 THEN created_at END)
WHERE action_id IS NOT NULL;
-- The old fold also rewarded holdout decisions that an Offer Accepted named.
UPDATE decisions SET reward = (shown_at IS NOT NULL AND accepted_at IS NOT NULL)
WHERE reward != (shown_at IS NOT NULL AND accepted_at IS NOT NULL);
