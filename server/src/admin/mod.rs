//! The admin API (`proto/lanyard/admin/v1/admin.proto`): registration entries, agents, join
//! tokens, the trust bundle and foreign ones, federation relationships and the server's own
//! authorities, served over gRPC on the Unix admin
//! socket by [`serve_admin`].
//!
//! Authorization is file-system access to the socket: its directory is mode 0700, so whoever can
//! connect is a full admin. Every change is recorded by `audit!` as one `tracing` event with
//! target `audit`, in one field scheme (ARCHITECTURE.md, "Audit log"): who (`caller`: the peer's
//! uid from `SO_PEERCRED`, else `admin-socket`), what (`action`, `<object>.<verb>`) and which
//! entry, agent or authority (`entry_id`, `agent_id`, `authority_id`, ...).
//!
//! Each service lives in its own file; [`error::status`] is the one place where datastore, CA and
//! validation errors become `tonic::Status` codes.

/// Records one admin action in the audit log, in the field scheme every admin action uses: target
/// `audit`, `caller` (who), `action` (`<object>.<verb>`, e.g. `entry.create`), then the fields
/// naming what it acted on (`entry_id`, `agent_id`, `authority_id`, `spiffe_id`, ...) and the
/// message: `audit!(who, "agent.ban", agent_id = %id, "admin changed an agent")`. Defined before
/// the `mod`s below so they see it; elsewhere (the pruner) import it as `crate::admin::audit`.
macro_rules! audit {
    ($caller:expr, $action:expr, $($fields_and_message:tt)+) => {
        tracing::info!(
            target: "audit",
            caller = %$caller,
            action = $action,
            $($fields_and_message)+
        )
    };
}
pub(crate) use audit;

mod agents;
mod authority;
mod bundles;
mod entries;
mod error;
mod federation;
mod jwt;
mod serve;
mod tokens;

#[cfg(test)]
mod tests;

pub use serve::{AdminServeError, bind_admin, serve_admin, serve_admin_on};

use tonic::transport::server::UdsConnectInfo;

/// Default page size of the list calls (admin.proto: "`page_size` 0 means the server default").
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// Largest page size the list calls honour; larger requests are capped.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The page size to use for a request's `page_size`.
fn page_size(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// Who made a request, for audit events: `uid:<n>` from the Unix socket's peer credentials, or
/// `admin-socket` when the transport did not provide them.
fn caller<T>(req: &tonic::Request<T>) -> String {
    req.extensions()
        .get::<UdsConnectInfo>()
        .and_then(|info| info.peer_cred)
        .map_or_else(|| "admin-socket".to_owned(), |c| format!("uid:{}", c.uid()))
}

/// A required string field, or `InvalidArgument` naming it.
fn required<'a>(field: &str, value: &'a str, example: &str) -> Result<&'a str, tonic::Status> {
    if value.is_empty() {
        return Err(tonic::Status::invalid_argument(format!(
            "`{field}` is required, e.g. {example}"
        )));
    }
    Ok(value)
}
