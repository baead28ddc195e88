//! The trust bundle's authorities (public keys and CA certificates) shared by all servers.

use crate::db::{DbRow, Tx, stmt};
use crate::{
    Authority, AuthorityKind, AuthorityState, ChangeKind, Datastore, DatastoreError, now_unix,
};

macro_rules! authority_columns {
    () => {
        "id, kind, public_der, state, tainted, not_after, created_at"
    };
}

const BY_ID: &str = concat!(
    "SELECT ",
    authority_columns!(),
    " FROM authorities WHERE id = $1"
);

fn kind_str(kind: AuthorityKind) -> &'static str {
    match kind {
        AuthorityKind::X509 => "x509",
        AuthorityKind::Jwt => "jwt",
    }
}

fn state_str(state: AuthorityState) -> &'static str {
    match state {
        AuthorityState::Prepared => "prepared",
        AuthorityState::Active => "active",
        AuthorityState::Old => "old",
    }
}

fn decode(row: &DbRow) -> Result<Authority, DatastoreError> {
    let id: String = row.get("id")?;
    let kind: String = row.get("kind")?;
    let state: String = row.get("state")?;
    let corrupt = |what: String| DatastoreError::corrupt(format!("authority {id}: {what}"));
    Ok(Authority {
        kind: match kind.as_str() {
            "x509" => AuthorityKind::X509,
            "jwt" => AuthorityKind::Jwt,
            other => return Err(corrupt(format!("unknown kind {other:?}"))),
        },
        state: match state.as_str() {
            "prepared" => AuthorityState::Prepared,
            "active" => AuthorityState::Active,
            "old" => AuthorityState::Old,
            other => return Err(corrupt(format!("unknown state {other:?}"))),
        },
        public_der: row.get("public_der")?,
        tainted: row.get("tainted")?,
        not_after: row.get("not_after")?,
        created_at: row.get("created_at")?,
        id,
    })
}

async fn load(tx: &mut Tx<'_>, id: &str) -> Result<Authority, DatastoreError> {
    let row = tx
        .fetch_optional(stmt(BY_ID).bind(id))
        .await?
        .ok_or_else(|| DatastoreError::NotFound {
            what: "authority",
            id: id.to_owned(),
        })?;
    decode(&row)
}

impl Datastore {
    /// Inserts an authority or replaces all its fields but `created_at`; logs `BundleChanged`.
    pub async fn upsert_authority(
        &self,
        authority: Authority,
    ) -> Result<Authority, DatastoreError> {
        let a = authority;
        let mut tx = Tx::write(self).await?;
        tx.execute(
            stmt(
                "INSERT INTO authorities (id, kind, public_der, state, tainted, not_after, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
                 public_der = excluded.public_der, state = excluded.state, \
                 tainted = excluded.tainted, not_after = excluded.not_after",
            )
            .bind(a.id.as_str())
            .bind(kind_str(a.kind))
            .bind(a.public_der)
            .bind(state_str(a.state))
            .bind(a.tainted)
            .bind(a.not_after)
            .bind(now_unix()),
        )
        .await?;
        let stored = load(&mut tx, &a.id).await?;
        tx.record(ChangeKind::BundleChanged);
        tx.commit().await?;
        Ok(stored)
    }

    /// All authorities, oldest first.
    pub async fn list_authorities(&self) -> Result<Vec<Authority>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let rows = tx
            .fetch_all(stmt(concat!(
                "SELECT ",
                authority_columns!(),
                " FROM authorities ORDER BY created_at, id"
            )))
            .await?;
        tx.commit().await?;
        rows.iter().map(decode).collect()
    }

    /// Moves an authority to `state`; logs `BundleChanged`.
    pub async fn set_authority_state(
        &self,
        id: &str,
        state: AuthorityState,
    ) -> Result<Authority, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        tx.execute(
            stmt("UPDATE authorities SET state = $2 WHERE id = $1")
                .bind(id)
                .bind(state_str(state)),
        )
        .await?;
        let stored = load(&mut tx, id).await?;
        tx.record(ChangeKind::BundleChanged);
        tx.commit().await?;
        Ok(stored)
    }

    /// Marks an authority tainted; logs `AuthorityTainted`.
    pub async fn taint_authority(&self, id: &str) -> Result<Authority, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        tx.execute(stmt("UPDATE authorities SET tainted = TRUE WHERE id = $1").bind(id))
            .await?;
        let stored = load(&mut tx, id).await?;
        tx.record(ChangeKind::AuthorityTainted { id: id.to_owned() });
        tx.commit().await?;
        Ok(stored)
    }

    /// Removes an authority from the bundle; logs `BundleChanged`.
    pub async fn delete_authority(&self, id: &str) -> Result<Authority, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let stored = load(&mut tx, id).await?;
        tx.execute(stmt("DELETE FROM authorities WHERE id = $1").bind(id))
            .await?;
        tx.record(ChangeKind::BundleChanged);
        tx.commit().await?;
        Ok(stored)
    }
}
