-- Federation (SPIFFE Federation §6): the foreign trust domains entries federate with, the
-- relationships that name where their bundles come from, and the stored foreign bundles. Keep in
-- step with ../postgres/0004_federation.sql.

-- Canonical JSON array of the trust-domain names, sorted and deduplicated (as selectors).
ALTER TABLE entries ADD COLUMN federates_with TEXT NOT NULL DEFAULT '[]';

-- One row per federated trust domain of an entry: for "which entries federate with X" (filters,
-- and the check that refuses to delete a relationship or bundle still in use).
CREATE TABLE entry_federates_with (
    entry_id     TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    trust_domain TEXT NOT NULL,
    PRIMARY KEY (entry_id, trust_domain)
);
CREATE INDEX entry_federates_with_td ON entry_federates_with (trust_domain);

CREATE TABLE federation_relationships (
    trust_domain       TEXT PRIMARY KEY NOT NULL,
    endpoint_url       TEXT NOT NULL,
    -- https_web or https_spiffe.
    profile            TEXT NOT NULL,
    -- The endpoint's SPIFFE ID for https_spiffe; '' for https_web.
    endpoint_spiffe_id TEXT NOT NULL,
    declared_in_config BOOLEAN NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE federated_bundles (
    trust_domain TEXT PRIMARY KEY NOT NULL,
    -- The SPIFFE bundle (JWKS) document.
    bundle_json  TEXT NOT NULL,
    -- spiffe_sequence, 0 when absent; fetched bundles with other keys must raise it.
    sequence     INTEGER NOT NULL,
    -- endpoint or operator.
    origin       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
);
