//! Presenting an `X509SVIDResponse`: a summary per SVID (text or JSON, never the key), and the
//! PEM files `--write` produces.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{CertInfo, certificates_to_pem, parse_x509_svid, split_der_certificates};

/// What the CLI shows of one SVID.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SvidSummary {
    pub(crate) spiffe_id: String,
    pub(crate) hint: String,
    pub(crate) serial: String,
    pub(crate) not_before: String,
    pub(crate) not_after: String,
    pub(crate) chain_length: usize,
    pub(crate) bundle_authorities: usize,
}

/// The JSON document of `fetch x509 --output json`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct FetchSummary {
    pub(crate) svids: Vec<SvidSummary>,
    /// Number of X.509 authorities per federated trust domain.
    pub(crate) federated_bundles: BTreeMap<String, usize>,
    /// Files written by `--write`.
    pub(crate) written: Vec<PathBuf>,
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Checks every SVID of `resp` against the X.509-SVID profile and summarizes it.
pub(crate) fn summarize(resp: &X509svidResponse) -> Result<Vec<SvidSummary>, String> {
    resp.svids
        .iter()
        .map(|svid| {
            let what = format!("SVID {:?}", svid.spiffe_id);
            let chain = split_der_certificates(&svid.x509_svid)
                .map_err(|e| format!("{what}: malformed chain: {e}"))?;
            let parsed = parse_x509_svid(&chain).map_err(|e| format!("{what}: {e}"))?;
            if parsed.spiffe_id.as_str() != svid.spiffe_id {
                return Err(format!(
                    "{what}: the certificate says {}",
                    parsed.spiffe_id.as_str()
                ));
            }
            let info =
                CertInfo::from_der(chain[0].as_bytes()).map_err(|e| format!("{what}: {e}"))?;
            let bundle = split_der_certificates(&svid.bundle)
                .map_err(|e| format!("{what}: malformed bundle: {e}"))?;
            Ok(SvidSummary {
                spiffe_id: svid.spiffe_id.clone(),
                hint: svid.hint.clone(),
                serial: info.serial_hex,
                not_before: rfc3339(info.not_before),
                not_after: rfc3339(info.not_after),
                chain_length: chain.len(),
                bundle_authorities: bundle.len(),
            })
        })
        .collect()
}

/// The federated bundles of `resp` and how many authorities each has.
pub(crate) fn federated(resp: &X509svidResponse) -> Result<BTreeMap<String, usize>, String> {
    resp.federated_bundles
        .iter()
        .map(|(td, der)| {
            let certs =
                split_der_certificates(der).map_err(|e| format!("federated bundle {td}: {e}"))?;
            Ok((td.clone(), certs.len()))
        })
        .collect()
}

/// The text form of `fetch x509`.
pub(crate) fn print_text(summary: &FetchSummary, dir: Option<&Path>) {
    println!("Received {} SVID(s)", summary.svids.len());
    for svid in &summary.svids {
        println!();
        println!("SPIFFE ID:         {}", svid.spiffe_id);
        if !svid.hint.is_empty() {
            println!("Hint:              {}", svid.hint);
        }
        println!("Serial:            {}", svid.serial);
        println!(
            "Valid:             {} .. {}",
            svid.not_before, svid.not_after
        );
        println!("Chain length:      {}", svid.chain_length);
        println!("Bundle:            {} authorities", svid.bundle_authorities);
    }
    for (td, n) in &summary.federated_bundles {
        println!("Federated bundle:  {td} ({n} authorities)");
    }
    if let Some(dir) = dir {
        println!();
        println!("Wrote {} files to {}", summary.written.len(), dir.display());
    }
}

/// One line for `watch`: the time and each SVID's ID, serial and expiry.
pub(crate) fn watch_line(svids: &[SvidSummary]) -> String {
    let items: Vec<String> = svids
        .iter()
        .map(|s| {
            format!(
                "{} (serial {}, expires {})",
                s.spiffe_id, s.serial, s.not_after
            )
        })
        .collect();
    format!(
        "{} update: {} SVID(s): {}",
        rfc3339(SystemTime::now()),
        svids.len(),
        items.join(", ")
    )
}

/// Writes `svid.N.pem` (chain), `svid.N.key` (PKCS#8 PEM, mode 0600) and `bundle.N.pem` into
/// `dir` (created if missing) for each SVID, and returns the paths written.
pub(crate) fn write_files(dir: &Path, resp: &X509svidResponse) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (i, svid) in resp.svids.iter().enumerate() {
        let chain = split_der_certificates(&svid.x509_svid).map_err(|e| e.to_string())?;
        let bundle = split_der_certificates(&svid.bundle).map_err(|e| e.to_string())?;
        let key = pem::encode_config(
            &pem::Pem::new("PRIVATE KEY", svid.x509_svid_key.clone()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        );
        for (name, contents, mode) in [
            (format!("svid.{i}.pem"), certificates_to_pem(&chain), 0o644),
            (format!("svid.{i}.key"), key, 0o600),
            (
                format!("bundle.{i}.pem"),
                certificates_to_pem(&bundle),
                0o644,
            ),
        ] {
            let path = dir.join(name);
            write_file(&path, contents.as_bytes(), mode)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Writes `contents` to `path` with `mode`, setting the mode *before* the contents go in, so a
/// key never sits in a file others can read, even when the file already existed.
fn write_file(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    file.set_len(0)?;
    file.write_all(contents)?;
    file.sync_all()
}
