//! Federation state (SPIFFE Federation §6): relationships with foreign trust domains, their
//! stored bundles, and the rule that ties both to entries' `federates_with`.
//!
//! # Rules kept here, each in the writing transaction
//!
//! - An entry may federate only with a trust domain that a relationship or a stored bundle
//!   names ([`first_unknown`], called by the entry writes); neither may be deleted while an entry
//!   still federates with it and nothing else names the trust domain
//!   ([`DatastoreError::FederationInUse`]).
//! - Deleting a relationship deletes its bundle (§6.3: "the local copy of the foreign bundle is
//!   deleted").
//! - A fetched bundle replaces the stored one only when it is fresher
//!   ([`Datastore::store_fetched_bundle`]); one set by an operator is the latest until the next
//!   successful refresh (§4.2).
//!
//! # Locking on PostgreSQL
//!
//! SQLite serializes writers (`BEGIN IMMEDIATE`). On PostgreSQL the checks take row locks, always
//! relationship before bundle: entry writes take `FOR KEY SHARE` on the row that names the trust
//! domain (so they never wait for a bundle refresh), refreshes `FOR NO KEY UPDATE`, and deletes
//! `FOR UPDATE`, which waits for every entry write holding the row and then counts the entries
//! those committed. A delete that wins instead makes the entry write find no row.

use lanyard_id::{SpiffeId, TrustDomain};

use crate::db::{DbRow, Tx, stmt};
use crate::{
    BundleOrigin, ChangeKind, ConfigReconciled, Datastore, DatastoreError, EndpointProfile,
    FederatedBundle, FederationRelationship, StoreOutcome, now_unix,
};

/// A relationship `SELECT` (table `federation_relationships`) followed by `$tail`.
macro_rules! relationship_select {
    ($tail:literal) => {
        concat!(
            "SELECT trust_domain, endpoint_url, profile, endpoint_spiffe_id, declared_in_config, \
             created_at, updated_at FROM federation_relationships",
            $tail
        )
    };
}

/// A bundle `SELECT` (table `federated_bundles`) followed by `$tail`.
macro_rules! bundle_select {
    ($tail:literal) => {
        concat!(
            "SELECT trust_domain, bundle_json, sequence, origin, updated_at FROM federated_bundles",
            $tail
        )
    };
}

/// The SQL for `tx`'s backend: `pg` (with a row-lock clause) on PostgreSQL, `sqlite` on SQLite.
fn pick(tx: &Tx<'_>, sqlite: &'static str, pg: &'static str) -> &'static str {
    if tx.is_postgres() { pg } else { sqlite }
}

fn decode_relationship(row: &DbRow) -> Result<FederationRelationship, DatastoreError> {
    let name: String = row.get("trust_domain")?;
    let corrupt = |what: String| DatastoreError::corrupt(format!("relationship {name}: {what}"));
    let trust_domain = TrustDomain::new(&name).map_err(|e| corrupt(e.to_string()))?;
    let profile: String = row.get("profile")?;
    let endpoint_id: String = row.get("endpoint_spiffe_id")?;
    Ok(FederationRelationship {
        profile: match profile.as_str() {
            "https_web" => EndpointProfile::HttpsWeb,
            "https_spiffe" => EndpointProfile::HttpsSpiffe,
            other => return Err(corrupt(format!("unknown profile {other:?}"))),
        },
        endpoint_spiffe_id: if endpoint_id.is_empty() {
            None
        } else {
            Some(
                SpiffeId::parse(&endpoint_id)
                    .map_err(|e| corrupt(format!("endpoint_spiffe_id {endpoint_id:?}: {e}")))?,
            )
        },
        endpoint_url: row.get("endpoint_url")?,
        declared_in_config: row.get("declared_in_config")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        trust_domain,
    })
}

fn decode_bundle(row: &DbRow) -> Result<FederatedBundle, DatastoreError> {
    let name: String = row.get("trust_domain")?;
    let corrupt =
        |what: String| DatastoreError::corrupt(format!("federated bundle {name}: {what}"));
    let trust_domain = TrustDomain::new(&name).map_err(|e| corrupt(e.to_string()))?;
    let sequence: i64 = row.get("sequence")?;
    let origin: String = row.get("origin")?;
    Ok(FederatedBundle {
        sequence: u64::try_from(sequence)
            .map_err(|_| corrupt(format!("negative sequence {sequence}")))?,
        origin: match origin.as_str() {
            "endpoint" => BundleOrigin::Endpoint,
            "operator" => BundleOrigin::Operator,
            other => return Err(corrupt(format!("unknown origin {other:?}"))),
        },
        bundle_json: row.get("bundle_json")?,
        updated_at: row.get("updated_at")?,
        trust_domain,
    })
}

/// A sequence number as stored, or [`DatastoreError::SequenceTooLarge`].
fn stored_sequence(trust_domain: &TrustDomain, sequence: u64) -> Result<i64, DatastoreError> {
    i64::try_from(sequence).map_err(|_| DatastoreError::SequenceTooLarge {
        trust_domain: trust_domain.clone(),
        sequence,
    })
}

/// Checks what the model requires of a relationship and its bootstrap bundle.
fn validate(
    rel: &FederationRelationship,
    bootstrap: Option<&FederatedBundle>,
) -> Result<(), DatastoreError> {
    let invalid = |reason: String| DatastoreError::InvalidRelationship {
        trust_domain: rel.trust_domain.clone(),
        reason,
    };
    if rel.endpoint_url.is_empty() {
        return Err(invalid("the bundle endpoint URL is empty".to_owned()));
    }
    match (rel.profile, &rel.endpoint_spiffe_id) {
        (EndpointProfile::HttpsSpiffe, None) => {
            return Err(invalid(
                "profile https_spiffe needs the endpoint's SPIFFE ID".to_owned(),
            ));
        }
        (EndpointProfile::HttpsWeb, Some(id)) => {
            return Err(invalid(format!(
                "profile https_web takes no endpoint SPIFFE ID (got {id})"
            )));
        }
        _ => {}
    }
    if let Some(b) = bootstrap {
        if b.trust_domain != rel.trust_domain {
            return Err(invalid(format!(
                "the bootstrap bundle is for trust domain {}",
                b.trust_domain
            )));
        }
        stored_sequence(&b.trust_domain, b.sequence)?;
    }
    Ok(())
}

/// The first of `trust_domains` that neither a relationship nor a stored bundle names, read in
/// `tx` (on PostgreSQL the naming row is locked `FOR KEY SHARE` until `tx` ends).
pub(crate) async fn first_unknown(
    tx: &mut Tx<'_>,
    trust_domains: &[TrustDomain],
) -> Result<Option<TrustDomain>, DatastoreError> {
    for td in trust_domains {
        let rel = pick(
            tx,
            "SELECT trust_domain FROM federation_relationships WHERE trust_domain = $1",
            "SELECT trust_domain FROM federation_relationships WHERE trust_domain = $1 \
             FOR KEY SHARE",
        );
        if tx
            .fetch_optional(stmt(rel).bind(td.name()))
            .await?
            .is_some()
        {
            continue;
        }
        let bundle = pick(
            tx,
            "SELECT trust_domain FROM federated_bundles WHERE trust_domain = $1",
            "SELECT trust_domain FROM federated_bundles WHERE trust_domain = $1 FOR KEY SHARE",
        );
        if tx
            .fetch_optional(stmt(bundle).bind(td.name()))
            .await?
            .is_none()
        {
            return Ok(Some(td.clone()));
        }
    }
    Ok(None)
}

/// How many entries federate with `td`.
async fn usage(tx: &mut Tx<'_>, td: &TrustDomain) -> Result<u64, DatastoreError> {
    let row = tx
        .fetch_optional(
            stmt("SELECT COUNT(*) AS n FROM entry_federates_with WHERE trust_domain = $1")
                .bind(td.name()),
        )
        .await?;
    let n: i64 = match row {
        Some(row) => row.get("n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The relationship of `td`, locked `FOR UPDATE` on PostgreSQL.
async fn relationship_for_update(
    tx: &mut Tx<'_>,
    td: &TrustDomain,
) -> Result<Option<FederationRelationship>, DatastoreError> {
    let sql = pick(
        tx,
        relationship_select!(" WHERE trust_domain = $1"),
        relationship_select!(" WHERE trust_domain = $1 FOR UPDATE"),
    );
    tx.fetch_optional(stmt(sql).bind(td.name()))
        .await?
        .as_ref()
        .map(decode_relationship)
        .transpose()
}

/// The stored bundle of `td`, locked on PostgreSQL (`FOR UPDATE` to delete it, `FOR NO KEY
/// UPDATE` to change it, so entry writes holding `FOR KEY SHARE` do not wait).
async fn bundle_locked(
    tx: &mut Tx<'_>,
    td: &TrustDomain,
    for_delete: bool,
) -> Result<Option<FederatedBundle>, DatastoreError> {
    let sql = match (tx.is_postgres(), for_delete) {
        (false, _) => bundle_select!(" WHERE trust_domain = $1"),
        (true, true) => bundle_select!(" WHERE trust_domain = $1 FOR UPDATE"),
        (true, false) => bundle_select!(" WHERE trust_domain = $1 FOR NO KEY UPDATE"),
    };
    tx.fetch_optional(stmt(sql).bind(td.name()))
        .await?
        .as_ref()
        .map(decode_bundle)
        .transpose()
}

/// Inserts or replaces the bundle of `b.trust_domain` as given (origin included), stamped
/// `now`, and logs `FederatedBundleChanged`.
async fn put_bundle(
    tx: &mut Tx<'_>,
    b: &FederatedBundle,
    now: i64,
) -> Result<FederatedBundle, DatastoreError> {
    let sequence = stored_sequence(&b.trust_domain, b.sequence)?;
    tx.execute(
        stmt(
            "INSERT INTO federated_bundles (trust_domain, bundle_json, sequence, origin, \
             updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (trust_domain) DO UPDATE SET bundle_json = excluded.bundle_json, \
             sequence = excluded.sequence, origin = excluded.origin, \
             updated_at = excluded.updated_at",
        )
        .bind(b.trust_domain.name())
        .bind(b.bundle_json.as_str())
        .bind(sequence)
        .bind(b.origin.as_str())
        .bind(now),
    )
    .await?;
    tx.record(ChangeKind::FederatedBundleChanged {
        trust_domain: b.trust_domain.clone(),
    });
    Ok(FederatedBundle {
        updated_at: now,
        ..b.clone()
    })
}

/// Stores a bootstrap or hand-set bundle: origin operator, whatever its sequence number.
async fn put_operator_bundle(
    tx: &mut Tx<'_>,
    b: FederatedBundle,
    now: i64,
) -> Result<FederatedBundle, DatastoreError> {
    let b = FederatedBundle {
        origin: BundleOrigin::Operator,
        ..b
    };
    put_bundle(tx, &b, now).await
}

/// Deletes the relationship (and bundle, if any) of `td`, logging both.
async fn remove_relationship(tx: &mut Tx<'_>, td: &TrustDomain) -> Result<(), DatastoreError> {
    let bundles = tx
        .execute(stmt("DELETE FROM federated_bundles WHERE trust_domain = $1").bind(td.name()))
        .await?;
    if bundles > 0 {
        tx.record(ChangeKind::FederatedBundleChanged {
            trust_domain: td.clone(),
        });
    }
    tx.execute(
        stmt("DELETE FROM federation_relationships WHERE trust_domain = $1").bind(td.name()),
    )
    .await?;
    tx.record(ChangeKind::RelationshipChanged {
        trust_domain: td.clone(),
    });
    Ok(())
}

/// Inserts `rel` as given (`declared_in_config` included), stamped `now`; `false` if the trust
/// domain already has one.
async fn insert_relationship(
    tx: &mut Tx<'_>,
    rel: &FederationRelationship,
    now: i64,
) -> Result<bool, DatastoreError> {
    let n = tx
        .execute(
            stmt(
                "INSERT INTO federation_relationships (trust_domain, endpoint_url, profile, \
                 endpoint_spiffe_id, declared_in_config, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
            )
            .bind(rel.trust_domain.name())
            .bind(rel.endpoint_url.as_str())
            .bind(rel.profile.as_str())
            .bind(endpoint_id_text(rel))
            .bind(rel.declared_in_config)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// Sets the endpoint fields and `declared_in_config` of the stored relationship of
/// `rel.trust_domain`, stamped `now`.
async fn update_relationship_row(
    tx: &mut Tx<'_>,
    rel: &FederationRelationship,
    now: i64,
) -> Result<(), DatastoreError> {
    tx.execute(
        stmt(
            "UPDATE federation_relationships SET endpoint_url = $2, profile = $3, \
             endpoint_spiffe_id = $4, declared_in_config = $5, updated_at = $6 \
             WHERE trust_domain = $1",
        )
        .bind(rel.trust_domain.name())
        .bind(rel.endpoint_url.as_str())
        .bind(rel.profile.as_str())
        .bind(endpoint_id_text(rel))
        .bind(rel.declared_in_config)
        .bind(now),
    )
    .await?;
    Ok(())
}

fn endpoint_id_text(rel: &FederationRelationship) -> String {
    rel.endpoint_spiffe_id
        .as_ref()
        .map_or_else(String::new, |id| id.as_str().to_owned())
}

/// Whether two relationships agree on everything an operator configures.
fn same_config(a: &FederationRelationship, b: &FederationRelationship) -> bool {
    a.endpoint_url == b.endpoint_url
        && a.profile == b.profile
        && a.endpoint_spiffe_id == b.endpoint_spiffe_id
        && a.declared_in_config == b.declared_in_config
}

fn relationship_not_found(td: &TrustDomain) -> DatastoreError {
    DatastoreError::NotFound {
        what: "federation relationship",
        id: td.name().to_owned(),
    }
}

impl Datastore {
    /// Creates a relationship with `rel.trust_domain` (as given, `declared_in_config`
    /// included) and, with `bootstrap`, stores that bundle as set by an operator, replacing any
    /// stored one. Logs `FederatedBundleChanged` (bundle first, so a reader of the relationship
    /// event already finds it) and `RelationshipChanged`.
    ///
    /// [`DatastoreError::RelationshipAlreadyExists`] if the trust domain has one;
    /// [`DatastoreError::InvalidRelationship`] if the endpoint SPIFFE ID does not match the
    /// profile or the bootstrap bundle is for another trust domain.
    pub async fn create_relationship(
        &self,
        rel: FederationRelationship,
        bootstrap: Option<FederatedBundle>,
    ) -> Result<FederationRelationship, DatastoreError> {
        validate(&rel, bootstrap.as_ref())?;
        let now = now_unix();
        let mut tx = Tx::write(self).await?;
        if !insert_relationship(&mut tx, &rel, now).await? {
            return Err(DatastoreError::RelationshipAlreadyExists {
                trust_domain: rel.trust_domain,
            });
        }
        if let Some(b) = bootstrap {
            put_operator_bundle(&mut tx, b, now).await?;
        }
        tx.record(ChangeKind::RelationshipChanged {
            trust_domain: rel.trust_domain.clone(),
        });
        tx.commit().await?;
        Ok(FederationRelationship {
            created_at: now,
            updated_at: now,
            ..rel
        })
    }

    /// Replaces the endpoint URL, profile and endpoint SPIFFE ID of the relationship with
    /// `rel.trust_domain` (`declared_in_config` and `created_at` are kept) and, with
    /// `bootstrap`, stores that bundle as [`Datastore::create_relationship`] does.
    ///
    /// [`DatastoreError::NotFound`] if there is none; [`DatastoreError::DeclaredInConfig`] for
    /// one declared in `server.toml`; [`DatastoreError::InvalidRelationship`] as for create.
    pub async fn update_relationship(
        &self,
        rel: FederationRelationship,
        bootstrap: Option<FederatedBundle>,
    ) -> Result<FederationRelationship, DatastoreError> {
        validate(&rel, bootstrap.as_ref())?;
        let now = now_unix();
        let mut tx = Tx::write(self).await?;
        let stored = relationship_for_update(&mut tx, &rel.trust_domain)
            .await?
            .ok_or_else(|| relationship_not_found(&rel.trust_domain))?;
        if stored.declared_in_config {
            return Err(DatastoreError::DeclaredInConfig {
                trust_domain: rel.trust_domain,
            });
        }
        let updated = FederationRelationship {
            declared_in_config: false,
            created_at: stored.created_at,
            updated_at: now,
            ..rel
        };
        update_relationship_row(&mut tx, &updated, now).await?;
        if let Some(b) = bootstrap {
            put_operator_bundle(&mut tx, b, now).await?;
        }
        tx.record(ChangeKind::RelationshipChanged {
            trust_domain: updated.trust_domain.clone(),
        });
        tx.commit().await?;
        Ok(updated)
    }

    /// Ends the relationship with `td` and deletes its stored bundle (SPIFFE Federation §6.3);
    /// returns what the relationship was. Logs `FederatedBundleChanged` (if there was a bundle)
    /// and `RelationshipChanged`.
    ///
    /// [`DatastoreError::NotFound`] if there is none; [`DatastoreError::DeclaredInConfig`] for
    /// one declared in `server.toml`; [`DatastoreError::FederationInUse`] while entries
    /// federate with `td`.
    pub async fn delete_relationship(
        &self,
        td: &TrustDomain,
    ) -> Result<FederationRelationship, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let stored = relationship_for_update(&mut tx, td)
            .await?
            .ok_or_else(|| relationship_not_found(td))?;
        if stored.declared_in_config {
            return Err(DatastoreError::DeclaredInConfig {
                trust_domain: td.clone(),
            });
        }
        let entries = usage(&mut tx, td).await?;
        if entries > 0 {
            return Err(DatastoreError::FederationInUse {
                trust_domain: td.clone(),
                entries,
            });
        }
        remove_relationship(&mut tx, td).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every relationship, ordered by trust domain.
    pub async fn list_relationships(&self) -> Result<Vec<FederationRelationship>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let rows = tx
            .fetch_all(stmt(relationship_select!(" ORDER BY trust_domain")))
            .await?;
        tx.commit().await?;
        rows.iter().map(decode_relationship).collect()
    }

    /// The relationship with `td`, if any.
    pub async fn get_relationship(
        &self,
        td: &TrustDomain,
    ) -> Result<Option<FederationRelationship>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let row = tx
            .fetch_optional(stmt(relationship_select!(" WHERE trust_domain = $1")).bind(td.name()))
            .await?;
        tx.commit().await?;
        row.as_ref().map(decode_relationship).transpose()
    }

    /// Makes the relationships declared in `server.toml` the stored ones, in one transaction:
    ///
    /// - each declared relationship is created, or its stored row (declared or not) takes the
    ///   declared endpoint and becomes declared; an unchanged row is left alone (no event);
    /// - a declared bootstrap bundle is stored (origin operator) only when the trust domain has
    ///   no bundle yet: a restart must not roll back what the refresher fetched since;
    /// - a relationship declared before but not now is deleted with its bundle, unless entries
    ///   still federate with it: then it is kept as an ordinary (admin API) relationship and
    ///   listed in [`ConfigReconciled::kept_in_use`], for the server to warn about.
    ///
    /// `declared_in_config` of the given relationships is ignored (taken as `true`).
    /// [`DatastoreError::InvalidRelationship`] (nothing stored) for a trust domain declared
    /// twice or a relationship [`Datastore::create_relationship`] would refuse.
    pub async fn reconcile_config_relationships(
        &self,
        declared: &[(FederationRelationship, Option<FederatedBundle>)],
    ) -> Result<ConfigReconciled, DatastoreError> {
        let mut seen = std::collections::BTreeSet::new();
        for (rel, bootstrap) in declared {
            validate(rel, bootstrap.as_ref())?;
            if !seen.insert(rel.trust_domain.clone()) {
                return Err(DatastoreError::InvalidRelationship {
                    trust_domain: rel.trust_domain.clone(),
                    reason: "declared more than once".to_owned(),
                });
            }
        }
        let now = now_unix();
        let mut report = ConfigReconciled::default();
        let mut tx = Tx::write(self).await?;
        for (rel, bootstrap) in declared {
            let rel = FederationRelationship {
                declared_in_config: true,
                ..rel.clone()
            };
            let td = &rel.trust_domain;
            let changed = match relationship_for_update(&mut tx, td).await? {
                None => insert_relationship(&mut tx, &rel, now).await?,
                Some(stored) if same_config(&stored, &rel) => false,
                Some(_) => {
                    update_relationship_row(&mut tx, &rel, now).await?;
                    true
                }
            };
            // The bundle's event before the relationship's, as in `create_relationship`.
            if let Some(b) = bootstrap
                && bundle_locked(&mut tx, td, false).await?.is_none()
            {
                put_operator_bundle(&mut tx, b.clone(), now).await?;
                report.bootstrapped.push(td.clone());
            }
            if changed {
                tx.record(ChangeKind::RelationshipChanged {
                    trust_domain: td.clone(),
                });
                report.upserted.push(td.clone());
            }
        }
        let sql = pick(
            &tx,
            relationship_select!(" WHERE declared_in_config = TRUE ORDER BY trust_domain"),
            relationship_select!(
                " WHERE declared_in_config = TRUE ORDER BY trust_domain FOR UPDATE"
            ),
        );
        let rows = tx.fetch_all(stmt(sql)).await?;
        for stale in rows.iter().map(decode_relationship) {
            let stale = stale?;
            if seen.contains(&stale.trust_domain) {
                continue;
            }
            let td = stale.trust_domain.clone();
            let entries = usage(&mut tx, &td).await?;
            if entries > 0 {
                let kept = FederationRelationship {
                    declared_in_config: false,
                    ..stale
                };
                update_relationship_row(&mut tx, &kept, now).await?;
                tx.record(ChangeKind::RelationshipChanged {
                    trust_domain: td.clone(),
                });
                report.kept_in_use.push((td, entries));
            } else {
                remove_relationship(&mut tx, &td).await?;
                report.removed.push(td);
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Stores a foreign bundle set by an operator (origin operator, whatever its sequence
    /// number), replacing any stored one, and logs `FederatedBundleChanged`. No relationship is
    /// needed: a bundle alone lets entries federate with its trust domain.
    ///
    /// [`DatastoreError::SequenceTooLarge`] for a sequence number above `i64::MAX`.
    pub async fn set_federated_bundle(
        &self,
        bundle: FederatedBundle,
    ) -> Result<FederatedBundle, DatastoreError> {
        stored_sequence(&bundle.trust_domain, bundle.sequence)?;
        let mut tx = Tx::write(self).await?;
        let stored = put_operator_bundle(&mut tx, bundle, now_unix()).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Stores a bundle fetched from `td`'s endpoint if it is fresher than the stored one, in one
    /// transaction (so servers sharing a database may all refresh):
    ///
    /// - no stored bundle: stored ([`StoreOutcome::Updated`]);
    /// - `same_keys(stored_bundle_json)` (the caller decodes and compares the authorities):
    ///   [`StoreOutcome::Unchanged`], no event. The stored sequence number is raised to
    ///   `sequence` when that is higher (a foreign server bumps it on changes that keep the keys,
    ///   and a stale copy with older keys must not win later), and an operator-set bundle
    ///   becomes the endpoint's;
    /// - other keys: stored if the stored bundle was set by an operator (§4.2: it is the
    ///   latest until a refresh replaces it), if `sequence` is 0 (absent: the most recently
    ///   retrieved bundle is current), or if `sequence` is above the stored one; otherwise
    ///   refused as [`StoreOutcome::Stale`] and the stored bundle kept.
    ///
    /// Logs `FederatedBundleChanged` when it stores other keys. [`DatastoreError::NotFound`]
    /// when no relationship names `td` (it was deleted while the fetch ran: its bundle must not
    /// come back); [`DatastoreError::SequenceTooLarge`] above `i64::MAX`.
    pub async fn store_fetched_bundle(
        &self,
        td: &TrustDomain,
        bundle_json: &str,
        sequence: u64,
        same_keys: impl FnOnce(&str) -> bool + Send,
    ) -> Result<StoreOutcome, DatastoreError> {
        let seq = stored_sequence(td, sequence)?;
        let now = now_unix();
        let fetched = FederatedBundle {
            trust_domain: td.clone(),
            bundle_json: bundle_json.to_owned(),
            sequence,
            origin: BundleOrigin::Endpoint,
            updated_at: now,
        };
        let mut tx = Tx::write(self).await?;
        let rel = pick(
            &tx,
            "SELECT trust_domain FROM federation_relationships WHERE trust_domain = $1",
            "SELECT trust_domain FROM federation_relationships WHERE trust_domain = $1 \
             FOR KEY SHARE",
        );
        if tx
            .fetch_optional(stmt(rel).bind(td.name()))
            .await?
            .is_none()
        {
            return Err(relationship_not_found(td));
        }
        let stored = match bundle_locked(&mut tx, td, false).await? {
            Some(stored) => stored,
            None => {
                let inserted = tx
                    .execute(
                        stmt(
                            "INSERT INTO federated_bundles (trust_domain, bundle_json, sequence, \
                             origin, updated_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(td.name())
                        .bind(bundle_json)
                        .bind(seq)
                        .bind(BundleOrigin::Endpoint.as_str())
                        .bind(now),
                    )
                    .await?;
                if inserted > 0 {
                    tx.record(ChangeKind::FederatedBundleChanged {
                        trust_domain: td.clone(),
                    });
                    tx.commit().await?;
                    return Ok(StoreOutcome::Updated);
                }
                // Another server stored one first (PostgreSQL waited for its commit).
                bundle_locked(&mut tx, td, false)
                    .await?
                    .ok_or_else(|| DatastoreError::corrupt("federated bundle vanished"))?
            }
        };
        let operator = stored.origin == BundleOrigin::Operator;
        if same_keys(&stored.bundle_json) {
            if operator || sequence > stored.sequence {
                // Same keys, so agents see nothing new: no event.
                tx.execute(
                    stmt(
                        "UPDATE federated_bundles SET bundle_json = $2, sequence = $3, \
                         origin = $4, updated_at = $5 WHERE trust_domain = $1",
                    )
                    .bind(td.name())
                    .bind(bundle_json)
                    .bind(seq)
                    .bind(BundleOrigin::Endpoint.as_str())
                    .bind(now),
                )
                .await?;
                tx.commit().await?;
            }
            return Ok(StoreOutcome::Unchanged);
        }
        if operator || sequence == 0 || sequence > stored.sequence {
            put_bundle(&mut tx, &fetched, now).await?;
            tx.commit().await?;
            return Ok(StoreOutcome::Updated);
        }
        Ok(StoreOutcome::Stale {
            stored: stored.sequence,
        })
    }

    /// Deletes the stored bundle of `td` and returns it; logs `FederatedBundleChanged`. With a
    /// relationship for `td`, the refresher fetches a new one on its next round.
    ///
    /// [`DatastoreError::NotFound`] if there is none; [`DatastoreError::FederationInUse`] while
    /// entries federate with `td` and no relationship names it.
    pub async fn delete_federated_bundle(
        &self,
        td: &TrustDomain,
    ) -> Result<FederatedBundle, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        // Relationship row first, as every writer locks them.
        let rel = pick(
            &tx,
            "SELECT trust_domain FROM federation_relationships WHERE trust_domain = $1",
            "SELECT trust_domain FROM federation_relationships WHERE trust_domain = $1 \
             FOR KEY SHARE",
        );
        let has_relationship = tx
            .fetch_optional(stmt(rel).bind(td.name()))
            .await?
            .is_some();
        let stored =
            bundle_locked(&mut tx, td, true)
                .await?
                .ok_or_else(|| DatastoreError::NotFound {
                    what: "federated bundle",
                    id: td.name().to_owned(),
                })?;
        if !has_relationship {
            let entries = usage(&mut tx, td).await?;
            if entries > 0 {
                return Err(DatastoreError::FederationInUse {
                    trust_domain: td.clone(),
                    entries,
                });
            }
        }
        tx.execute(stmt("DELETE FROM federated_bundles WHERE trust_domain = $1").bind(td.name()))
            .await?;
        tx.record(ChangeKind::FederatedBundleChanged {
            trust_domain: td.clone(),
        });
        tx.commit().await?;
        Ok(stored)
    }

    /// Every stored foreign bundle, ordered by trust domain.
    pub async fn list_federated_bundles(&self) -> Result<Vec<FederatedBundle>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let rows = tx
            .fetch_all(stmt(bundle_select!(" ORDER BY trust_domain")))
            .await?;
        tx.commit().await?;
        rows.iter().map(decode_bundle).collect()
    }

    /// The stored bundle of `td`, if any.
    pub async fn get_federated_bundle(
        &self,
        td: &TrustDomain,
    ) -> Result<Option<FederatedBundle>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let row = tx
            .fetch_optional(stmt(bundle_select!(" WHERE trust_domain = $1")).bind(td.name()))
            .await?;
        tx.commit().await?;
        row.as_ref().map(decode_bundle).transpose()
    }
}
