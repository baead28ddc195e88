//! Listing, counting and matching entries, including what an agent is authorized for.

use lanyard_id::SpiffeId;

use crate::db::{SqlBuilder, Tx};
use crate::entries::{decode, entry_columns, valid_id};
use crate::selector::{self, normalize};
use crate::{
    AuthorizedEntries, Datastore, DatastoreError, Entry, EntryFilter, MatchMode, Page, PageRequest,
    Selector, SelectorMatch,
};

/// Appends ` AND <condition>` for `filter` (the statement already has a `WHERE`).
fn push_filter(b: &mut SqlBuilder, filter: &EntryFilter) {
    if let Some(id) = &filter.spiffe_id {
        b.push(" AND e.spiffe_id = ").push_bind(id.as_str());
    }
    if let Some(id) = &filter.parent_id {
        b.push(" AND e.parent_id = ").push_bind(id.as_str());
    }
    if let Some(m) = &filter.selectors {
        push_selector_match(b, m);
    }
    if let Some(td) = &filter.federates_with {
        b.push(
            " AND EXISTS (SELECT 1 FROM entry_federates_with f \
             WHERE f.entry_id = e.id AND f.trust_domain = ",
        )
        .push_bind(td.name())
        .push(")");
    }
}

/// Appends ` AND <selector condition>`, evaluated against `entry_selectors` with the
/// `(entry_id, selector)` primary key and the `selector` index.
fn push_selector_match(b: &mut SqlBuilder, m: &SelectorMatch) {
    let mut given = m.selectors.clone();
    normalize(&mut given);
    if given.is_empty() {
        // Every entry has at least one selector: only "superset of nothing" matches anything.
        if m.mode != MatchMode::Superset {
            b.push(" AND 1 = 0");
        }
        return;
    }
    let strings: Vec<String> = given.iter().map(Selector::to_string).collect();
    match m.mode {
        MatchMode::Exact => {
            b.push(" AND e.selectors = ")
                .push_bind(selector::to_json(&given));
        }
        MatchMode::Any => {
            b.push(
                " AND EXISTS (SELECT 1 FROM entry_selectors s \
                 WHERE s.entry_id = e.id AND s.selector IN (",
            )
            .push_bind_list(strings)
            .push("))");
        }
        MatchMode::Superset => {
            let n = i64::try_from(strings.len()).unwrap_or(i64::MAX);
            b.push(
                " AND (SELECT COUNT(*) FROM entry_selectors s \
                 WHERE s.entry_id = e.id AND s.selector IN (",
            )
            .push_bind_list(strings)
            .push(")) = ")
            .push_bind(n);
        }
        MatchMode::Subset => {
            b.push(
                " AND NOT EXISTS (SELECT 1 FROM entry_selectors s \
                 WHERE s.entry_id = e.id AND s.selector NOT IN (",
            )
            .push_bind_list(strings)
            .push("))");
        }
    }
}

/// Node entries under `server_id` whose selectors are all among `node_selectors`.
async fn aliases(
    tx: &mut Tx<'_>,
    server_id: &SpiffeId,
    node_selectors: &[Selector],
) -> Result<Vec<Entry>, DatastoreError> {
    let filter = EntryFilter {
        spiffe_id: None,
        parent_id: Some(server_id.clone()),
        selectors: Some(SelectorMatch {
            selectors: node_selectors.to_vec(),
            mode: MatchMode::Subset,
        }),
        federates_with: None,
    };
    let mut b = SqlBuilder::default();
    b.push(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM entries e WHERE 1 = 1"
    ));
    push_filter(&mut b, &filter);
    b.push(" ORDER BY e.id");
    tx.fetch_all(b.finish()).await?.iter().map(decode).collect()
}

/// Entries whose parent is one of `parents` (uses the `parent_id` index).
async fn by_parents(tx: &mut Tx<'_>, parents: &[SpiffeId]) -> Result<Vec<Entry>, DatastoreError> {
    let mut parents: Vec<&str> = parents.iter().map(SpiffeId::as_str).collect();
    parents.sort_unstable();
    parents.dedup();
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = SqlBuilder::default();
    b.push(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM entries e WHERE e.parent_id IN ("
    ))
    .push_bind_list(parents)
    .push(") ORDER BY e.id");
    tx.fetch_all(b.finish()).await?.iter().map(decode).collect()
}

impl Datastore {
    /// One page of the entries matching `filter`, ordered by ID. The page token is opaque.
    pub async fn list_entries(
        &self,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<Entry>, DatastoreError> {
        let mut b = SqlBuilder::default();
        b.push(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM entries e WHERE 1 = 1"
        ));
        push_filter(&mut b, filter);
        if let Some(token) = &page.page_token {
            if !valid_id(token) {
                return Err(DatastoreError::InvalidPageToken);
            }
            b.push(" AND e.id > ").push_bind(token.as_str());
        }
        b.push(" ORDER BY e.id");
        if page.page_size > 0 {
            // One extra row tells whether there is a next page.
            b.push(" LIMIT ").push_bind(i64::from(page.page_size) + 1);
        }
        let mut tx = Tx::read(self).await?;
        let rows = tx.fetch_all(b.finish()).await?;
        tx.commit().await?;
        let mut items = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let size = usize::try_from(page.page_size).unwrap_or(usize::MAX);
        let next_page_token = if page.page_size > 0 && items.len() > size {
            items.truncate(size);
            items.last().map(|e| e.id.clone())
        } else {
            None
        };
        Ok(Page {
            items,
            next_page_token,
        })
    }

    /// How many entries match `filter`.
    pub async fn count_entries(&self, filter: &EntryFilter) -> Result<u64, DatastoreError> {
        let mut b = SqlBuilder::default();
        b.push("SELECT COUNT(*) AS n FROM entries e WHERE 1 = 1");
        push_filter(&mut b, filter);
        let mut tx = Tx::read(self).await?;
        let rows = tx.fetch_all(b.finish()).await?;
        tx.commit().await?;
        let n: i64 = match rows.first() {
            Some(row) => row.get("n")?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Node-alias resolution: node entries (parented by the server's own ID `server_id`, e.g.
    /// `spiffe://td/lanyard/server`) whose selectors are a subset of the agent's
    /// `node_selectors`. Their SPIFFE IDs are the agent's alias IDs.
    pub async fn node_aliases(
        &self,
        server_id: &SpiffeId,
        node_selectors: &[Selector],
    ) -> Result<Vec<Entry>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let aliases = aliases(&mut tx, server_id, node_selectors).await?;
        tx.commit().await?;
        Ok(aliases)
    }

    /// Entries whose parent ID is any of `parent_ids` (an agent's ID and its alias IDs), ordered
    /// by ID.
    pub async fn entries_by_parents(
        &self,
        parent_ids: &[SpiffeId],
    ) -> Result<Vec<Entry>, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let entries = by_parents(&mut tx, parent_ids).await?;
        tx.commit().await?;
        Ok(entries)
    }

    /// Everything agent `agent_id` with node selectors `node_selectors` may fetch SVIDs for:
    /// its node aliases and the entries parented by it or by an alias, from one snapshot.
    pub async fn authorized_entries(
        &self,
        server_id: &SpiffeId,
        agent_id: &SpiffeId,
        node_selectors: &[Selector],
    ) -> Result<AuthorizedEntries, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let aliases = aliases(&mut tx, server_id, node_selectors).await?;
        let mut parents: Vec<SpiffeId> = aliases.iter().map(|e| e.spiffe_id.clone()).collect();
        parents.push(agent_id.clone());
        let entries = by_parents(&mut tx, &parents).await?;
        tx.commit().await?;
        Ok(AuthorizedEntries { aliases, entries })
    }
}
