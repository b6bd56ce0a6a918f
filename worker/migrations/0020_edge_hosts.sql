-- The shop hosts whose pages the edge pass serves (worker/edge/): a host names one site, written when
-- the site's `edge` setting is saved. In the control plane; every shard runs it as every migration.
CREATE TABLE edge_hosts (
  host TEXT PRIMARY KEY,
  site_id TEXT NOT NULL
);
CREATE INDEX edge_hosts_site ON edge_hosts (site_id);
