-- "Newest items" fills the slots of a shop with little activity; without this index it sorted the whole catalog.
CREATE INDEX items_newest ON items (site_id, in_stock, updated_at DESC, id);
