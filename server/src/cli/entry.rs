//! `lanyard-server entry create|update|delete|show|count`.

use clap::{Args, Subcommand, ValueEnum};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use lanyard_proto::lanyard::types::v1 as pb;

use super::render::entry_text;
use super::{CliError, Common, Output, client, push_json, rpc};

/// Registration entry commands.
#[derive(Debug, Subcommand)]
pub enum EntryCmd {
    /// Create a registration entry.
    Create(CreateArgs),
    /// Replace every field of an entry (flags not given take their defaults).
    Update(UpdateArgs),
    /// Delete an entry.
    Delete(DeleteArgs),
    /// Show one entry (--id) or the entries matching the filters (all of them by default).
    Show(ShowArgs),
    /// Count the entries matching the filters.
    Count(CountArgs),
}

/// The fields of an entry, as flags.
#[derive(Debug, Clone, Args)]
pub struct EntryFields {
    /// The SPIFFE ID matching workloads get, e.g. spiffe://example.org/web.
    #[arg(long)]
    spiffe_id: String,
    /// The agent (or node alias) ID the selectors are evaluated under.
    #[arg(long)]
    parent_id: String,
    /// A selector as type:value, e.g. unix:uid:1000 (repeat for several; all must match).
    #[arg(long = "selector", value_name = "TYPE:VALUE")]
    selectors: Vec<String>,
    /// X.509-SVID lifetime in seconds (omit for the server default).
    #[arg(long, value_name = "SECONDS")]
    x509_svid_ttl: Option<u32>,
    /// JWT-SVID lifetime in seconds (omit for the server default).
    #[arg(long, value_name = "SECONDS")]
    jwt_svid_ttl: Option<u32>,
    /// A DNS SAN for the X.509-SVID (repeatable).
    #[arg(long = "dns-name", value_name = "NAME")]
    dns_names: Vec<String>,
    /// Workload API hint, to tell several identities of one workload apart.
    #[arg(long, default_value = "")]
    hint: String,
    /// The identity may call the admin API.
    #[arg(long)]
    admin: bool,
    /// The identity is a downstream CA.
    #[arg(long)]
    downstream: bool,
    /// When the entry stops being valid (Unix seconds).
    #[arg(long, value_name = "UNIX")]
    expires_at: Option<i64>,
    /// Who manages the entry, e.g. a controller's name.
    #[arg(long, default_value = "")]
    owner: String,
    /// Free text.
    #[arg(long, default_value = "")]
    description: String,
    /// A foreign trust domain whose bundle the entry's workloads receive, as a name
    /// (orders.example) or ID (spiffe://orders.example); repeatable. A federation relationship
    /// or a stored bundle must name it (`federation create`, `bundle set`).
    #[arg(long = "federates-with", value_name = "TRUST_DOMAIN")]
    federates_with: Vec<String>,
}

/// `entry create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    fields: EntryFields,
    #[command(flatten)]
    common: Common,
}

/// `entry update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The entry to replace.
    #[arg(long)]
    id: String,
    #[command(flatten)]
    fields: EntryFields,
    #[command(flatten)]
    common: Common,
}

/// `entry delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The entry to delete.
    #[arg(long)]
    id: String,
    #[command(flatten)]
    common: Common,
}

/// How `--selector` filters compare with an entry's selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Match {
    /// The entry has exactly these selectors.
    Exact,
    /// The entry's selectors are all among these (what a workload with them would get).
    Subset,
    /// The entry has all of these selectors, and maybe more.
    Superset,
    /// The entry has at least one of these selectors.
    Any,
}

/// Entry filters.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only entries with this SPIFFE ID.
    #[arg(long)]
    spiffe_id: Option<String>,
    /// Only entries with this parent ID.
    #[arg(long)]
    parent_id: Option<String>,
    /// Only entries whose selectors match these (type:value, repeatable).
    #[arg(long = "selector", value_name = "TYPE:VALUE")]
    selectors: Vec<String>,
    /// How --selector compares.
    #[arg(long = "match", value_enum, default_value_t = Match::Superset)]
    match_mode: Match,
    /// Only entries that federate with this trust domain (name or spiffe:// ID).
    #[arg(long = "federates-with", value_name = "TRUST_DOMAIN")]
    federates_with: Option<String>,
}

/// `entry show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Show only this entry.
    #[arg(long, conflicts_with_all = ["spiffe_id", "parent_id", "selectors", "federates_with"])]
    id: Option<String>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Fetch one page of this many entries instead of all of them; JSON output and the last
    /// text line give the token for the next page.
    #[arg(long)]
    page_size: Option<u32>,
    /// Continue a paged listing (implies one page).
    #[arg(long)]
    page_token: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `entry count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    common: Common,
}

/// Parses `type:value`, checked before anything is sent.
pub(super) fn parse_selector(s: &str) -> Result<pb::Selector, CliError> {
    match s.split_once(':') {
        Some((t, v)) if !t.is_empty() && !v.is_empty() => Ok(pb::Selector {
            r#type: t.to_owned(),
            value: v.to_owned(),
        }),
        _ => Err(CliError::Usage(format!(
            "selector {s:?} must be type:value, e.g. unix:uid:1000"
        ))),
    }
}

/// Checks a `--federates-with` value before anything is sent.
fn trust_domain_flag(v: &str) -> Result<String, CliError> {
    lanyard_id::TrustDomain::new(v)
        .map(|_| v.to_owned())
        .map_err(|e| {
            CliError::Usage(format!(
                "--federates-with {v:?} is not a trust domain: {e}; give its name \
                 (orders.example) or its ID (spiffe://orders.example)"
            ))
        })
}

fn ttl_flag(flag: &str, v: Option<u32>) -> Result<u32, CliError> {
    match v {
        Some(0) => Err(CliError::Usage(format!(
            "{flag} must be greater than zero (omit it for the server default)"
        ))),
        v => Ok(v.unwrap_or(0)),
    }
}

impl EntryFields {
    fn to_pb(&self, id: String) -> Result<pb::Entry, CliError> {
        if self.selectors.is_empty() {
            return Err(CliError::Usage(
                "at least one --selector is required, e.g. --selector unix:uid:1000".to_owned(),
            ));
        }
        if self.expires_at.is_some_and(|t| t <= 0) {
            return Err(CliError::Usage(
                "--expires-at must be a Unix time in seconds (omit it for no expiry)".to_owned(),
            ));
        }
        Ok(pb::Entry {
            id,
            spiffe_id: self.spiffe_id.clone(),
            parent_id: self.parent_id.clone(),
            selectors: self
                .selectors
                .iter()
                .map(|s| parse_selector(s))
                .collect::<Result<_, _>>()?,
            x509_svid_ttl_seconds: ttl_flag("--x509-svid-ttl", self.x509_svid_ttl)?,
            jwt_svid_ttl_seconds: ttl_flag("--jwt-svid-ttl", self.jwt_svid_ttl)?,
            dns_names: self.dns_names.clone(),
            hint: self.hint.clone(),
            admin: self.admin,
            downstream: self.downstream,
            expires_at: self.expires_at.unwrap_or(0),
            owner: self.owner.clone(),
            description: self.description.clone(),
            federates_with: self
                .federates_with
                .iter()
                .map(|v| trust_domain_flag(v))
                .collect::<Result<_, _>>()?,
            ..Default::default()
        })
    }
}

impl FilterArgs {
    fn to_pb(&self) -> Result<api::EntryFilter, CliError> {
        let selectors = if self.selectors.is_empty() {
            None
        } else {
            let mode = match self.match_mode {
                Match::Exact => api::SelectorMatch::Exact,
                Match::Subset => api::SelectorMatch::Subset,
                Match::Superset => api::SelectorMatch::Superset,
                Match::Any => api::SelectorMatch::Any,
            };
            Some(api::SelectorFilter {
                selectors: self
                    .selectors
                    .iter()
                    .map(|s| parse_selector(s))
                    .collect::<Result<_, _>>()?,
                r#match: mode.into(),
            })
        };
        Ok(api::EntryFilter {
            spiffe_id: self.spiffe_id.clone(),
            parent_id: self.parent_id.clone(),
            selectors,
            federates_with: self
                .federates_with
                .as_deref()
                .map(trust_domain_flag)
                .transpose()?,
        })
    }
}

fn print_entry(out: &mut String, output: Output, e: &pb::Entry) {
    match output {
        Output::Json => push_json(out, e),
        Output::Text => entry_text(out, e),
    }
}

/// Runs an `entry` command.
pub(super) async fn execute(cmd: EntryCmd, out: &mut String) -> Result<(), CliError> {
    match cmd {
        EntryCmd::Create(a) => {
            let entry = a.fields.to_pb(String::new())?;
            let mut c = EntriesClient::new(client::connect(&a.common.socket.socket_path).await?);
            let resp = c
                .create_entry(api::CreateEntryRequest { entry: Some(entry) })
                .await
                .map_err(rpc("create entry"))?;
            print_entry(
                out,
                a.common.output,
                &resp.into_inner().entry.unwrap_or_default(),
            );
        }
        EntryCmd::Update(a) => {
            let entry = a.fields.to_pb(a.id)?;
            let mut c = EntriesClient::new(client::connect(&a.common.socket.socket_path).await?);
            let resp = c
                .update_entry(api::UpdateEntryRequest { entry: Some(entry) })
                .await
                .map_err(rpc("update entry"))?;
            print_entry(
                out,
                a.common.output,
                &resp.into_inner().entry.unwrap_or_default(),
            );
        }
        EntryCmd::Delete(a) => {
            let mut c = EntriesClient::new(client::connect(&a.common.socket.socket_path).await?);
            let resp = c
                .delete_entry(api::DeleteEntryRequest { id: a.id.clone() })
                .await
                .map_err(rpc("delete entry"))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &resp),
                Output::Text => out.push_str(&format!("Deleted entry {}\n", a.id)),
            }
        }
        EntryCmd::Show(a) => show(a, out).await?,
        EntryCmd::Count(a) => {
            let filter = a.filter.to_pb()?;
            let mut c = EntriesClient::new(client::connect(&a.common.socket.socket_path).await?);
            let resp = c
                .count_entries(api::CountEntriesRequest {
                    filter: Some(filter),
                })
                .await
                .map_err(rpc("count entries"))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &resp),
                Output::Text => out.push_str(&format!("{} entries\n", resp.count)),
            }
        }
    }
    Ok(())
}

async fn show(a: ShowArgs, out: &mut String) -> Result<(), CliError> {
    if a.page_size == Some(0) {
        return Err(CliError::Usage(
            "--page-size must be greater than zero (omit it to list every entry)".to_owned(),
        ));
    }
    let filter = a.filter.to_pb()?;
    let mut c = EntriesClient::new(client::connect(&a.common.socket.socket_path).await?);
    let (entries, next_page_token) = if let Some(id) = a.id {
        let e = c
            .get_entry(api::GetEntryRequest { id })
            .await
            .map_err(rpc("show entry"))?
            .into_inner()
            .entry
            .unwrap_or_default();
        (vec![e], String::new())
    } else {
        let one_page = a.page_size.is_some() || a.page_token.is_some();
        let mut token = a.page_token.unwrap_or_default();
        let mut entries = Vec::new();
        loop {
            let page = c
                .list_entries(api::ListEntriesRequest {
                    filter: Some(filter.clone()),
                    page_size: a.page_size.unwrap_or(0),
                    page_token: token,
                })
                .await
                .map_err(rpc("list entries"))?
                .into_inner();
            entries.extend(page.entries);
            token = page.next_page_token;
            if one_page || token.is_empty() {
                break;
            }
        }
        (entries, token)
    };
    match a.common.output {
        Output::Json => push_json(
            out,
            &api::ListEntriesResponse {
                entries,
                next_page_token,
            },
        ),
        Output::Text => {
            let n = entries.len();
            out.push_str(&format!(
                "Found {n} {}\n",
                if n == 1 { "entry" } else { "entries" }
            ));
            for e in &entries {
                out.push('\n');
                entry_text(out, e);
            }
            if !next_page_token.is_empty() {
                out.push_str(&format!("\nMore entries: --page-token {next_page_token}\n"));
            }
        }
    }
    Ok(())
}
