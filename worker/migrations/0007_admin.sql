-- The secret admin key of each site (SHA-256 hex), separate from the public key the script tag carries.
ALTER TABLE sites ADD COLUMN admin_key_hash TEXT;
