//! Attested agents: registration on attestation, renewal, ban and eviction.

use lanyard_id::SpiffeId;

use crate::db::{DbRow, SqlBuilder, Tx, stmt};
use crate::selector::{self, normalize};
use crate::{
    AttestedAgent, ChangeKind, Datastore, DatastoreError, Page, PageRequest, Selector, now_unix,
};

macro_rules! agent_columns {
    () => {
        "spiffe_id, attestation_type, serial, previous_serial, expires_at, banned, selectors, \
         created_at, last_seen_at, can_reattest"
    };
}

const AGENT_BY_ID: &str = concat!(
    "SELECT ",
    agent_columns!(),
    " FROM agents WHERE spiffe_id = $1"
);

fn decode(row: &DbRow) -> Result<AttestedAgent, DatastoreError> {
    let id: String = row.get("spiffe_id")?;
    let spiffe_id = SpiffeId::parse(&id)
        .map_err(|e| DatastoreError::corrupt(format!("agent {id:?}: spiffe_id: {e}")))?;
    let selectors: String = row.get("selectors")?;
    Ok(AttestedAgent {
        selectors: selector::from_json(&selectors, &format!("agent {id}"))?,
        spiffe_id,
        attestation_type: row.get("attestation_type")?,
        serial: row.get("serial")?,
        previous_serial: row.get("previous_serial")?,
        expires_at: row.get("expires_at")?,
        banned: row.get("banned")?,
        created_at: row.get("created_at")?,
        last_seen_at: row.get("last_seen_at")?,
        can_reattest: row.get("can_reattest")?,
    })
}

fn not_found(id: &SpiffeId) -> DatastoreError {
    DatastoreError::NotFound {
        what: "agent",
        id: id.to_string(),
    }
}

/// Reads the agent in `tx`, or `NotFound`.
async fn load(tx: &mut Tx<'_>, id: &SpiffeId) -> Result<AttestedAgent, DatastoreError> {
    let row = tx
        .fetch_optional(stmt(AGENT_BY_ID).bind(id.as_str()))
        .await?
        .ok_or_else(|| not_found(id))?;
    decode(&row)
}

impl Datastore {
    /// Records a successful attestation: inserts the agent, or updates its attestation type,
    /// serial, expiry, selectors and `can_reattest` (keeping `created_at`). A banned agent is
    /// left unchanged and returned with `banned = true`: the caller must refuse it. The ban
    /// cannot be lost to a concurrent attestation because the check is part of the upsert.
    pub async fn upsert_agent(
        &self,
        agent: AttestedAgent,
    ) -> Result<AttestedAgent, DatastoreError> {
        let mut agent = agent;
        normalize(&mut agent.selectors);
        let now = now_unix();
        let mut tx = Tx::write(self).await?;
        tx.execute(
            stmt(
                "INSERT INTO agents (spiffe_id, attestation_type, serial, expires_at, banned, \
                 selectors, created_at, last_seen_at, can_reattest) \
                 VALUES ($1, $2, $3, $4, FALSE, $5, $6, $6, $7) \
                 ON CONFLICT (spiffe_id) DO UPDATE SET attestation_type = excluded.attestation_type, \
                 serial = excluded.serial, previous_serial = '', \
                 expires_at = excluded.expires_at, \
                 selectors = excluded.selectors, last_seen_at = excluded.last_seen_at, \
                 can_reattest = excluded.can_reattest WHERE agents.banned = FALSE",
            )
            .bind(agent.spiffe_id.as_str())
            .bind(agent.attestation_type.as_str())
            .bind(agent.serial.as_str())
            .bind(agent.expires_at)
            .bind(selector::to_json(&agent.selectors))
            .bind(now)
            .bind(agent.can_reattest),
        )
        .await?;
        let stored = load(&mut tx, &agent.spiffe_id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The agent with this ID, if it has attested and was not evicted.
    pub async fn get_agent(&self, id: &SpiffeId) -> Result<Option<AttestedAgent>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let row = tx
            .fetch_optional(stmt(AGENT_BY_ID).bind(id.as_str()))
            .await?;
        tx.commit().await?;
        row.as_ref().map(decode).transpose()
    }

    /// One page of agents, ordered by SPIFFE ID.
    pub async fn list_agents(
        &self,
        page: &PageRequest,
    ) -> Result<Page<AttestedAgent>, DatastoreError> {
        let mut b = SqlBuilder::default();
        b.push(concat!(
            "SELECT ",
            agent_columns!(),
            " FROM agents WHERE 1 = 1"
        ));
        if let Some(token) = &page.page_token {
            SpiffeId::parse(token).map_err(|_| DatastoreError::InvalidPageToken)?;
            b.push(" AND spiffe_id > ").push_bind(token.as_str());
        }
        b.push(" ORDER BY spiffe_id");
        if page.page_size > 0 {
            b.push(" LIMIT ").push_bind(i64::from(page.page_size) + 1);
        }
        let mut tx = Tx::read(self).await?;
        let rows = tx.fetch_all(b.finish()).await?;
        tx.commit().await?;
        let mut items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let size = usize::try_from(page.page_size).unwrap_or(usize::MAX);
        let next_page_token = if page.page_size > 0 && items.len() > size {
            items.truncate(size);
            items.last().map(|a| a.spiffe_id.to_string())
        } else {
            None
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// Records a renewal: the new SVID's serial and expiry; the replaced serial becomes
    /// `previous_serial` (still accepted until the next renewal). A banned agent cannot renew:
    /// [`DatastoreError::AgentBanned`].
    pub async fn update_agent_serial(
        &self,
        id: &SpiffeId,
        serial: &str,
        expires_at: i64,
    ) -> Result<AttestedAgent, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let agent = load(&mut tx, id).await?;
        if agent.banned {
            return Err(DatastoreError::AgentBanned {
                spiffe_id: id.to_string(),
            });
        }
        tx.execute(
            stmt(
                "UPDATE agents SET previous_serial = serial, serial = $2, expires_at = $3, \
                 last_seen_at = $4 WHERE spiffe_id = $1",
            )
            .bind(id.as_str())
            .bind(serial)
            .bind(expires_at)
            .bind(now_unix()),
        )
        .await?;
        let stored = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces the agent's node selectors (e.g. after re-attestation found new ones).
    pub async fn set_agent_selectors(
        &self,
        id: &SpiffeId,
        selectors: Vec<Selector>,
    ) -> Result<AttestedAgent, DatastoreError> {
        let mut selectors = selectors;
        normalize(&mut selectors);
        let mut tx = Tx::write(self).await?;
        let n = tx
            .execute(
                stmt("UPDATE agents SET selectors = $2 WHERE spiffe_id = $1")
                    .bind(id.as_str())
                    .bind(selector::to_json(&selectors)),
            )
            .await?;
        if n == 0 {
            return Err(not_found(id));
        }
        let stored = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Bans an agent: it may not renew or re-attest until evicted. Its serials are cleared.
    pub async fn ban_agent(&self, id: &SpiffeId) -> Result<AttestedAgent, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let n = tx
            .execute(
                stmt(
                    "UPDATE agents SET banned = TRUE, serial = '', previous_serial = '' \
                     WHERE spiffe_id = $1",
                )
                .bind(id.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(not_found(id));
        }
        let stored = load(&mut tx, id).await?;
        tx.record(ChangeKind::AgentBanned {
            spiffe_id: id.clone(),
        });
        tx.commit().await?;
        Ok(stored)
    }

    /// Evicts an agent: deletes its record, so it must attest again (which also lifts a ban).
    pub async fn delete_agent(&self, id: &SpiffeId) -> Result<AttestedAgent, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let agent = load(&mut tx, id).await?;
        tx.execute(stmt("DELETE FROM agents WHERE spiffe_id = $1").bind(id.as_str()))
            .await?;
        tx.record(ChangeKind::AgentEvicted {
            spiffe_id: id.clone(),
        });
        tx.commit().await?;
        Ok(agent)
    }
}
