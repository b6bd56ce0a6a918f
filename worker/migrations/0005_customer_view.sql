-- The last order of each browser, for recency (RFM) without scanning its events.
ALTER TABLE visitors ADD COLUMN last_order_at INTEGER;
UPDATE visitors SET last_order_at = (
  SELECT MAX(ts) FROM events e
  WHERE e.site_id = visitors.site_id AND e.anonymous_id = visitors.anonymous_id AND e.type = 'Order Completed'
);
