-- Lanyard datastore schema v1 (SQLite). Keep in step with ../postgres/0001_init.sql: the
-- statements in src/ are shared, only column types differ.

CREATE TABLE entries (
    id            TEXT PRIMARY KEY NOT NULL,
    spiffe_id     TEXT NOT NULL,
    parent_id     TEXT NOT NULL,
    -- Canonical JSON array of "type:value", sorted and deduplicated: the exact-match key.
    selectors     TEXT NOT NULL,
    -- SHA-256 hex of (spiffe_id, parent_id, selectors): one entry per identity, parent and
    -- selector set, enforced by the index under any concurrency.
    natural_key   TEXT NOT NULL UNIQUE,
    x509_svid_ttl INTEGER NOT NULL,
    jwt_svid_ttl  INTEGER NOT NULL,
    dns_names     TEXT NOT NULL,
    hint          TEXT NOT NULL,
    admin         BOOLEAN NOT NULL,
    downstream    BOOLEAN NOT NULL,
    expires_at    INTEGER,
    owner         TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revision      INTEGER NOT NULL
);
CREATE INDEX entries_parent_id ON entries (parent_id);
CREATE INDEX entries_spiffe_id ON entries (spiffe_id);
CREATE INDEX entries_expires_at ON entries (expires_at);

-- One row per selector of an entry, for selector filters.
CREATE TABLE entry_selectors (
    entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    selector TEXT NOT NULL,
    PRIMARY KEY (entry_id, selector)
);
CREATE INDEX entry_selectors_selector ON entry_selectors (selector);

CREATE TABLE agents (
    spiffe_id        TEXT PRIMARY KEY NOT NULL,
    attestation_type TEXT NOT NULL,
    serial           TEXT NOT NULL,
    expires_at       INTEGER NOT NULL,
    banned           BOOLEAN NOT NULL,
    selectors        TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    can_reattest     BOOLEAN NOT NULL
);

CREATE TABLE join_tokens (
    -- SHA-256 hex of the token: a database dump holds no usable tokens.
    token_hash TEXT PRIMARY KEY NOT NULL,
    spiffe_id  TEXT,
    expires_at INTEGER NOT NULL
);
CREATE INDEX join_tokens_expires_at ON join_tokens (expires_at);

CREATE TABLE authorities (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    public_der BLOB NOT NULL,
    state      TEXT NOT NULL,
    tainted    BOOLEAN NOT NULL,
    not_after  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- The change log. seq comes from event_counter, whose row lock serializes event writers, so
-- seq is gap-free and in commit order.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    parent  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX events_at ON events (at);

CREATE TABLE event_counter (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO event_counter (id, value) VALUES (1, 0);
