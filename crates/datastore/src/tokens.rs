//! Join tokens: single use, enforced by one `DELETE ... RETURNING`.

use lanyard_id::SpiffeId;

use crate::db::{Tx, stmt};
use crate::{Datastore, DatastoreError, JoinToken, sha256_hex};

/// Tokens are stored by hash only.
fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

impl Datastore {
    /// Stores a join token (its SHA-256 only). The token must be secret and random; a
    /// duplicate is a query error.
    pub async fn create_join_token(&self, token: &JoinToken) -> Result<(), DatastoreError> {
        let mut tx = Tx::write(self).await?;
        tx.execute(
            stmt("INSERT INTO join_tokens (token_hash, spiffe_id, expires_at) VALUES ($1, $2, $3)")
                .bind(token_hash(&token.token))
                .bind(token.spiffe_id.as_ref().map(ToString::to_string))
                .bind(token.expires_at),
        )
        .await?;
        tx.commit().await
    }

    /// Uses up a join token: `Ok` for exactly one caller, however many race for the same token.
    ///
    /// The token is deleted by a single `DELETE ... RETURNING`, so a second consumer finds
    /// nothing ([`DatastoreError::TokenNotFound`]), on SQLite because writers are serialized
    /// and on PostgreSQL because the second `DELETE` waits for the first and then sees the row
    /// gone. A token whose `expires_at` is not after `now` is deleted too, and gives
    /// [`DatastoreError::TokenExpired`].
    pub async fn consume_join_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<JoinToken, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let row = tx
            .fetch_optional(
                stmt(
                    "DELETE FROM join_tokens WHERE token_hash = $1 RETURNING spiffe_id, expires_at",
                )
                .bind(token_hash(token)),
            )
            .await?;
        let Some(row) = row else {
            return Err(DatastoreError::TokenNotFound);
        };
        let spiffe_id: Option<String> = row.get("spiffe_id")?;
        let expires_at: i64 = row.get("expires_at")?;
        tx.commit().await?;
        if expires_at <= now {
            return Err(DatastoreError::TokenExpired);
        }
        let spiffe_id = spiffe_id
            .map(|s| {
                SpiffeId::parse(&s).map_err(|e| {
                    DatastoreError::corrupt(format!("join token spiffe_id {s:?}: {e}"))
                })
            })
            .transpose()?;
        Ok(JoinToken {
            token: token.to_owned(),
            spiffe_id,
            expires_at,
        })
    }

    /// Deletes tokens that expired at or before `now`; returns how many.
    pub async fn prune_join_tokens(&self, now: i64) -> Result<u64, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let n = tx
            .execute(stmt("DELETE FROM join_tokens WHERE expires_at <= $1").bind(now))
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}
