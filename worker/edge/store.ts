// The edge hosts' SQL, on the control plane (env.DB): which site a host's pages belong to.

/** The site whose pages this host serves, if any. */
export const siteOfHost = (db: D1Database, host: string) =>
  db.prepare('SELECT site_id FROM edge_hosts WHERE host = ?').bind(host).first<string>('site_id')

/** Hosts among these that another site has claimed. */
export const claimedHosts = (db: D1Database, siteId: string, hosts: string[]) =>
  db
    .prepare('SELECT host FROM edge_hosts WHERE host IN (SELECT value FROM json_each(?)) AND site_id != ?')
    .bind(JSON.stringify(hosts), siteId)
    .all<{ host: string }>()

/** The site's hosts now; the statements replace them in one batch. */
export const siteHosts = (db: D1Database, siteId: string) =>
  db.prepare('SELECT host FROM edge_hosts WHERE site_id = ?').bind(siteId).all<{ host: string }>()

/** Statements that make `hosts` the site's edge hosts, for one batch. */
export const replaceHosts = (db: D1Database, siteId: string, hosts: string[]) => [
  db.prepare('DELETE FROM edge_hosts WHERE site_id = ?').bind(siteId),
  db
    .prepare('INSERT INTO edge_hosts (host, site_id) SELECT value, ? FROM json_each(?)')
    .bind(siteId, JSON.stringify(hosts)),
]
