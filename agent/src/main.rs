//! `lanyard-agent`: the per-node agent. Attestation, sync and the Workload API arrive with
//! issue 4; until then the binary only identifies itself.

fn main() {
    println!(
        "lanyard-agent {}: the node agent is not built yet (see ARCHITECTURE.md)",
        env!("CARGO_PKG_VERSION")
    );
}
