//! Repository chores for Lanyard, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Commands:
//! - `codegen`: regenerate `crates/proto/src/gen/` from the `.proto` files under `proto/`.
//! - `codegen --check`: write nothing; fail if the checked-in code differs from what `codegen` would
//!   write (for CI; `cargo test -p xtask` runs the same check).
//!
//! The generated code is checked in so that building Lanyard needs neither `protoc` nor this tool;
//! the `codegen::tests::checked_in_code_matches_proto` test fails when the two drift apart.

mod codegen;

use anyhow::bail;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["codegen"] => {
            let root = codegen::repo_root()?;
            let written = codegen::write_checked_in(&root)?;
            for file in written {
                println!("wrote {}", file.display());
            }
            Ok(())
        }
        ["codegen", "--check"] => {
            let problems = codegen::drift(&codegen::repo_root()?)?;
            if problems.is_empty() {
                println!("crates/proto/src/gen/ is up to date");
                Ok(())
            } else {
                bail!("{}\n{}", codegen::DRIFT_MESSAGE, problems.join("\n"))
            }
        }
        _ => bail!(
            "usage: cargo xtask codegen [--check]\n  \
             codegen          regenerate crates/proto/src/gen/ from proto/\n  \
             codegen --check  fail if crates/proto/src/gen/ is out of date"
        ),
    }
}
