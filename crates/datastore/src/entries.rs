//! Registration entries: create, get, update, delete. Listing and matching are in
//! `entry_query.rs`.

use lanyard_id::{SpiffeId, TrustDomain};

use crate::db::{DbRow, Tx, stmt};
use crate::federation;
use crate::selector::{self, normalize};
use crate::{ChangeKind, Datastore, DatastoreError, Entry, new_id, now_unix, sha256_hex};

/// The columns every entry query selects (table alias `e`), as a literal for `concat!`.
macro_rules! entry_columns {
    () => {
        "e.id, e.spiffe_id, e.parent_id, e.selectors, e.x509_svid_ttl, e.jwt_svid_ttl, \
         e.dns_names, e.hint, e.admin, e.downstream, e.expires_at, e.owner, e.description, \
         e.created_at, e.revision, e.federates_with"
    };
}
pub(crate) use entry_columns;

const ENTRY_BY_ID: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM entries e WHERE e.id = $1"
);

/// Longest hint the Workload API allows.
const MAX_HINT_LEN: usize = 1024;

/// An entry in canonical form, plus the derived columns.
struct Prepared {
    entry: Entry,
    selectors_json: String,
    dns_json: String,
    federates_json: String,
    natural_key: String,
}

/// Checks an entry against the model's rules and computes its stored form.
fn prepare(mut entry: Entry) -> Result<Prepared, DatastoreError> {
    let invalid = |reason: String| DatastoreError::InvalidEntry { reason };
    if !entry.id.is_empty() && !valid_id(&entry.id) {
        return Err(invalid(format!(
            "entry ID {:?} must be 1-255 characters of A-Z a-z 0-9 . _ -",
            entry.id
        )));
    }
    normalize(&mut entry.selectors);
    if entry.selectors.is_empty() {
        return Err(invalid("an entry needs at least one selector".to_owned()));
    }
    if entry.hint.len() > MAX_HINT_LEN {
        return Err(invalid(format!("hint is longer than {MAX_HINT_LEN} bytes")));
    }
    entry.federates_with.sort_unstable();
    entry.federates_with.dedup();
    let selectors_json = selector::to_json(&entry.selectors);
    let dns_json = serde_json::to_string(&entry.dns_names).map_err(|e| invalid(e.to_string()))?;
    let names: Vec<&str> = entry.federates_with.iter().map(TrustDomain::name).collect();
    let federates_json = serde_json::to_string(&names).map_err(|e| invalid(e.to_string()))?;
    let natural_key = natural_key(&entry.spiffe_id, &entry.parent_id, &selectors_json);
    Ok(Prepared {
        entry,
        selectors_json,
        dns_json,
        federates_json,
        natural_key,
    })
}

/// Entry IDs (and so page tokens) are short and URL-safe.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The uniqueness key: SPIFFE IDs cannot contain NUL, so the encoding is unambiguous.
fn natural_key(spiffe_id: &SpiffeId, parent_id: &SpiffeId, selectors_json: &str) -> String {
    let text = format!("{spiffe_id}\0{parent_id}\0{selectors_json}");
    sha256_hex(text.as_bytes())
}

/// Reads one row selected with `entry_columns!()`.
pub(crate) fn decode(row: &DbRow) -> Result<Entry, DatastoreError> {
    let id: String = row.get("id")?;
    let corrupt = |what: String| DatastoreError::corrupt(format!("entry {id}: {what}"));
    let spiffe = |col: &str| -> Result<SpiffeId, DatastoreError> {
        let s: String = row.get(col)?;
        SpiffeId::parse(&s).map_err(|e| corrupt(format!("{col} {s:?}: {e}")))
    };
    let ttl = |col: &str| -> Result<u32, DatastoreError> {
        let v: i64 = row.get(col)?;
        u32::try_from(v).map_err(|_| corrupt(format!("{col} {v} out of range")))
    };
    let selectors_text: String = row.get("selectors")?;
    let dns_text: String = row.get("dns_names")?;
    let federates_text: String = row.get("federates_with")?;
    let federates_names: Vec<String> = serde_json::from_str(&federates_text)
        .map_err(|e| corrupt(format!("federates_with: {e}")))?;
    let federates_with = federates_names
        .iter()
        .map(|n| TrustDomain::new(n).map_err(|e| corrupt(format!("federates_with {n:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Entry {
        spiffe_id: spiffe("spiffe_id")?,
        parent_id: spiffe("parent_id")?,
        selectors: selector::from_json(&selectors_text, &format!("entry {id}"))?,
        x509_svid_ttl: ttl("x509_svid_ttl")?,
        jwt_svid_ttl: ttl("jwt_svid_ttl")?,
        dns_names: serde_json::from_str(&dns_text)
            .map_err(|e| corrupt(format!("dns_names: {e}")))?,
        hint: row.get("hint")?,
        admin: row.get("admin")?,
        downstream: row.get("downstream")?,
        expires_at: row.get("expires_at")?,
        owner: row.get("owner")?,
        description: row.get("description")?,
        federates_with,
        created_at: row.get("created_at")?,
        revision: row.get("revision")?,
        id,
    })
}

/// Inserts `p` unless an entry with its ID or natural key exists; returns that entry's ID then.
async fn insert(tx: &mut Tx<'_>, p: &Prepared) -> Result<Option<String>, DatastoreError> {
    let e = &p.entry;
    let inserted = tx
        .execute(
            stmt(
                "INSERT INTO entries (id, spiffe_id, parent_id, selectors, natural_key, \
                 x509_svid_ttl, jwt_svid_ttl, dns_names, hint, admin, downstream, expires_at, \
                 owner, description, created_at, revision, federates_with) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(e.id.as_str())
            .bind(e.spiffe_id.as_str())
            .bind(e.parent_id.as_str())
            .bind(p.selectors_json.as_str())
            .bind(p.natural_key.as_str())
            .bind(i64::from(e.x509_svid_ttl))
            .bind(i64::from(e.jwt_svid_ttl))
            .bind(p.dns_json.as_str())
            .bind(e.hint.as_str())
            .bind(e.admin)
            .bind(e.downstream)
            .bind(e.expires_at)
            .bind(e.owner.as_str())
            .bind(e.description.as_str())
            .bind(e.created_at)
            .bind(e.revision)
            .bind(p.federates_json.as_str()),
        )
        .await?;
    if inserted == 0 {
        // On PostgreSQL `ON CONFLICT DO NOTHING` waited for the conflicting transaction to
        // commit, so the existing row is visible to this next statement.
        let existing = tx
            .fetch_optional(
                stmt(
                    "SELECT id FROM entries WHERE natural_key = $1 OR id = $2 \
                     ORDER BY CASE WHEN natural_key = $1 THEN 0 ELSE 1 END LIMIT 1",
                )
                .bind(p.natural_key.as_str())
                .bind(e.id.as_str()),
            )
            .await?;
        let id = match existing {
            Some(row) => row.get("id")?,
            None => e.id.clone(),
        };
        return Ok(Some(id));
    }
    insert_children(tx, e).await?;
    Ok(None)
}

/// Inserts the entry's `entry_selectors` and `entry_federates_with` rows.
async fn insert_children(tx: &mut Tx<'_>, e: &Entry) -> Result<(), DatastoreError> {
    for s in &e.selectors {
        tx.execute(
            stmt("INSERT INTO entry_selectors (entry_id, selector) VALUES ($1, $2)")
                .bind(e.id.as_str())
                .bind(s.to_string()),
        )
        .await?;
    }
    for td in &e.federates_with {
        tx.execute(
            stmt("INSERT INTO entry_federates_with (entry_id, trust_domain) VALUES ($1, $2)")
                .bind(e.id.as_str())
                .bind(td.name()),
        )
        .await?;
    }
    Ok(())
}

/// [`DatastoreError::UnknownFederatedTrustDomain`] for the first trust domain of `e` that
/// neither a relationship nor a stored bundle names (checked in the writing transaction).
async fn check_federates_with(tx: &mut Tx<'_>, e: &Entry) -> Result<(), DatastoreError> {
    match federation::first_unknown(tx, &e.federates_with).await? {
        Some(trust_domain) => Err(DatastoreError::UnknownFederatedTrustDomain { trust_domain }),
        None => Ok(()),
    }
}

/// Fills in what the datastore owns on create.
fn stamp_new(mut p: Prepared, now: i64) -> Result<Prepared, DatastoreError> {
    if p.entry.id.is_empty() {
        p.entry.id = new_id()?;
    }
    p.entry.created_at = now;
    p.entry.revision = 1;
    Ok(p)
}

impl Datastore {
    /// Creates an entry (generating its ID if `entry.id` is empty) and returns it as stored.
    ///
    /// An entry with the same SPIFFE ID, parent ID and selector set, or the same ID, gives
    /// [`DatastoreError::AlreadyExists`] with the existing ID.
    pub async fn create_entry(&self, entry: Entry) -> Result<Entry, DatastoreError> {
        let p = stamp_new(prepare(entry)?, now_unix())?;
        let mut tx = Tx::write(self).await?;
        check_federates_with(&mut tx, &p.entry).await?;
        if let Some(id) = insert(&mut tx, &p).await? {
            return Err(DatastoreError::AlreadyExists { id });
        }
        tx.record(ChangeKind::EntryUpserted {
            id: p.entry.id.clone(),
        });
        tx.commit().await?;
        Ok(p.entry)
    }

    /// Creates many entries in one transaction (one durable commit). Each result is what
    /// [`Datastore::create_entry`] would have returned; entries that fail do not stop the others.
    /// `Err` at the top level means nothing was stored.
    pub async fn create_entries(
        &self,
        entries: Vec<Entry>,
    ) -> Result<Vec<Result<Entry, DatastoreError>>, DatastoreError> {
        let now = now_unix();
        let mut tx = Tx::write(self).await?;
        let mut results = Vec::with_capacity(entries.len());
        for entry in entries {
            let p = match prepare(entry).and_then(|p| stamp_new(p, now)) {
                Ok(p) => p,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            if let Some(trust_domain) =
                federation::first_unknown(&mut tx, &p.entry.federates_with).await?
            {
                results.push(Err(DatastoreError::UnknownFederatedTrustDomain {
                    trust_domain,
                }));
                continue;
            }
            match insert(&mut tx, &p).await? {
                Some(id) => results.push(Err(DatastoreError::AlreadyExists { id })),
                None => {
                    tx.record(ChangeKind::EntryUpserted {
                        id: p.entry.id.clone(),
                    });
                    results.push(Ok(p.entry));
                }
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    /// The entry with this ID, if any.
    pub async fn get_entry(&self, id: &str) -> Result<Option<Entry>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let row = tx.fetch_optional(stmt(ENTRY_BY_ID).bind(id)).await?;
        tx.commit().await?;
        row.as_ref().map(decode).transpose()
    }

    /// Replaces every field of the entry `entry.id` except `created_at`, bumps its revision and
    /// returns it as stored. With `expected_revision`, fails with
    /// [`DatastoreError::RevisionMismatch`] if someone else changed it first.
    pub async fn update_entry(
        &self,
        entry: Entry,
        expected_revision: Option<i64>,
    ) -> Result<Entry, DatastoreError> {
        let p = prepare(entry)?;
        match self.try_update(&p, expected_revision).await {
            Err(DatastoreError::Query(sqlx::Error::Database(db))) if db.is_unique_violation() => {
                // Lost a race with a concurrent create (PostgreSQL); the transaction is gone,
                // so look the winner up in a fresh one.
                let mut tx = Tx::read(self).await?;
                let row = tx
                    .fetch_optional(
                        stmt("SELECT id FROM entries WHERE natural_key = $1")
                            .bind(p.natural_key.as_str()),
                    )
                    .await?;
                tx.commit().await?;
                let id = row.map(|r| r.get("id")).transpose()?.unwrap_or_default();
                Err(DatastoreError::AlreadyExists { id })
            }
            other => other,
        }
    }

    async fn try_update(
        &self,
        p: &Prepared,
        expected_revision: Option<i64>,
    ) -> Result<Entry, DatastoreError> {
        let e = &p.entry;
        let mut tx = Tx::write(self).await?;
        let clash = tx
            .fetch_optional(
                stmt("SELECT id FROM entries WHERE natural_key = $1 AND id <> $2")
                    .bind(p.natural_key.as_str())
                    .bind(e.id.as_str()),
            )
            .await?;
        if let Some(row) = clash {
            return Err(DatastoreError::AlreadyExists { id: row.get("id")? });
        }
        check_federates_with(&mut tx, e).await?;
        let row = tx
            .fetch_optional(
                stmt(
                    "UPDATE entries SET spiffe_id = $2, parent_id = $3, selectors = $4, \
                     natural_key = $5, x509_svid_ttl = $6, jwt_svid_ttl = $7, dns_names = $8, \
                     hint = $9, admin = $10, downstream = $11, expires_at = $12, owner = $13, \
                     description = $14, federates_with = $16, revision = revision + 1 \
                     WHERE id = $1 AND ($15 IS NULL OR revision = $15) \
                     RETURNING created_at, revision",
                )
                .bind(e.id.as_str())
                .bind(e.spiffe_id.as_str())
                .bind(e.parent_id.as_str())
                .bind(p.selectors_json.as_str())
                .bind(p.natural_key.as_str())
                .bind(i64::from(e.x509_svid_ttl))
                .bind(i64::from(e.jwt_svid_ttl))
                .bind(p.dns_json.as_str())
                .bind(e.hint.as_str())
                .bind(e.admin)
                .bind(e.downstream)
                .bind(e.expires_at)
                .bind(e.owner.as_str())
                .bind(e.description.as_str())
                .bind(expected_revision)
                .bind(p.federates_json.as_str()),
            )
            .await?;
        let Some(row) = row else {
            let current = tx
                .fetch_optional(
                    stmt("SELECT revision FROM entries WHERE id = $1").bind(e.id.as_str()),
                )
                .await?;
            return Err(match (current, expected_revision) {
                (Some(row), Some(expected)) => DatastoreError::RevisionMismatch {
                    id: e.id.clone(),
                    expected,
                    actual: row.get("revision")?,
                },
                _ => DatastoreError::NotFound {
                    what: "registration entry",
                    id: e.id.clone(),
                },
            });
        };
        let mut stored = e.clone();
        stored.created_at = row.get("created_at")?;
        stored.revision = row.get("revision")?;
        tx.execute(stmt("DELETE FROM entry_selectors WHERE entry_id = $1").bind(e.id.as_str()))
            .await?;
        tx.execute(
            stmt("DELETE FROM entry_federates_with WHERE entry_id = $1").bind(e.id.as_str()),
        )
        .await?;
        insert_children(&mut tx, &stored).await?;
        tx.record(ChangeKind::EntryUpserted {
            id: stored.id.clone(),
        });
        tx.commit().await?;
        Ok(stored)
    }

    /// Deletes an entry and returns what it was; [`DatastoreError::NotFound`] if there is none.
    pub async fn delete_entry(&self, id: &str) -> Result<Entry, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let row = tx
            .fetch_optional(stmt(ENTRY_BY_ID).bind(id))
            .await?
            .ok_or_else(|| DatastoreError::NotFound {
                what: "registration entry",
                id: id.to_owned(),
            })?;
        let entry = decode(&row)?;
        // entry_selectors and entry_federates_with rows go with it (ON DELETE CASCADE).
        tx.execute(stmt("DELETE FROM entries WHERE id = $1").bind(id))
            .await?;
        tx.record(ChangeKind::EntryDeleted {
            id: entry.id.clone(),
            parent_id: entry.parent_id.clone(),
        });
        tx.commit().await?;
        Ok(entry)
    }

    /// Deletes the entries whose `expires_at` has passed (is at or before `now`, as signing
    /// sees it) and returns them, so the caller can audit each one. Each deletion is logged
    /// like [`Datastore::delete_entry`]'s, so agents drop the entry.
    ///
    /// Safe to run from several servers at once: on PostgreSQL a second `DELETE` waits for the
    /// first and returns only rows it deleted itself (each entry is returned once, by one
    /// server), and an entry whose expiry was extended meanwhile is re-checked and kept.
    pub async fn prune_expired_entries(&self, now: i64) -> Result<Vec<Entry>, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        // entry_selectors and entry_federates_with rows go with them (ON DELETE CASCADE).
        let rows = tx
            .fetch_all(
                stmt(
                    "DELETE FROM entries WHERE expires_at IS NOT NULL AND expires_at <= $1 \
                     RETURNING id, spiffe_id, parent_id, selectors, x509_svid_ttl, \
                     jwt_svid_ttl, dns_names, hint, admin, downstream, expires_at, owner, \
                     description, created_at, revision, federates_with",
                )
                .bind(now),
            )
            .await?;
        let gone = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        for e in &gone {
            tx.record(ChangeKind::EntryDeleted {
                id: e.id.clone(),
                parent_id: e.parent_id.clone(),
            });
        }
        tx.commit().await?;
        Ok(gone)
    }
}
