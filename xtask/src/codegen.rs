//! `cargo xtask codegen`: compile `proto/` with protox (pure Rust, no `protoc`) and generate prost
//! messages plus tonic clients and servers into `crates/proto/src/gen/`, and next to them
//! (`<package>.serde.rs`) pbjson-build's serde impls: the proto3 JSON mapping with the proto field
//! names and every field emitted, which the CLIs print for `--output json`.
//!
//! Output must be deterministic for the drift test to compare bytes: protos are compiled in sorted
//! path order, prost-build formats its output with prettyplease, file names are fixed below, and
//! `generation_is_deterministic` checks that two runs agree.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Where the `.proto` sources live, relative to the repository root; also the include path, so
/// imports read `lanyard/types/v1/types.proto`.
const PROTO_DIR: &str = "proto";

/// Where the generated code is checked in, relative to the repository root.
const GEN_DIR: &str = "crates/proto/src/gen";

/// The encoded `FileDescriptorSet` of all protos (imports included), for tools such as
/// `grpcurl -protoset`.
const DESCRIPTOR_SET_FILE: &str = "descriptor_set.bin";

/// prost-build names each output file after the proto package; the Workload API has none, which
/// prost-build writes as `_.rs`. Rename it to something a reader can find.
const RENAMES: &[(&str, &str)] = &[("_.rs", "workload.rs")];

/// pbjson-build requires a package; the Workload API's types are given this one (the name of the
/// Rust module they live in) for the serde impls only. Their wire names stay package-less.
const WORKLOAD_PACKAGE: &str = "workload";

/// The well-known types (`google.protobuf.Struct` in the Workload API) come from `pbjson-types`,
/// which implements their proto3 JSON mapping; prost's own `prost-types` has no serde impls.
const WELL_KNOWN_TYPES: (&str, &str) = (".google.protobuf", "::pbjson_types");

/// What to tell someone whose checked-in code no longer matches `proto/`.
pub(crate) const DRIFT_MESSAGE: &str =
    "generated code drifted from proto/: run `cargo xtask codegen`";

/// The repository root (the parent of this crate's directory).
pub(crate) fn repo_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

/// Generates every file in memory: file name -> contents.
pub(crate) fn generate(root: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let proto_dir = root.join(PROTO_DIR);
    let protos = proto_files(&proto_dir)?;
    if protos.is_empty() {
        bail!("no .proto files under {}", proto_dir.display());
    }

    let mut compiler = protox::Compiler::new([&proto_dir])
        .with_context(|| format!("bad include path {}", proto_dir.display()))?;
    compiler.include_source_info(true).include_imports(true);
    for proto in &protos {
        compiler
            .open_file(proto)
            .with_context(|| format!("compiling {}", proto.display()))?;
    }
    let descriptor_set = compiler.encode_file_descriptor_set();
    // Imports stay in: prost-build needs the well-known types' descriptors to decide derives, and
    // maps them to `prost_types` instead of generating code for them.
    let fds = compiler.file_descriptor_set();

    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        // Small initial per-call buffers: see crates/proto/src/codec.rs.
        .codec_path("crate::codec::LeanCodec")
        // Not compiled: taken from pbjson-types instead of prost-types (which would clash).
        .compile_well_known_types(true)
        .extern_path(WELL_KNOWN_TYPES.0, WELL_KNOWN_TYPES.1)
        .emit_rerun_if_changed(false)
        .out_dir(tmp.path())
        .compile_fds(fds)
        .context("tonic-prost-build failed")?;

    let mut files = BTreeMap::new();
    for entry in fs::read_dir(tmp.path()).context("reading generated files")? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let name = RENAMES
            .iter()
            .find(|(from, _)| *from == name)
            .map_or(name.clone(), |(_, to)| (*to).to_owned());
        files.insert(name, fs::read(entry.path())?);
    }
    files.extend(generate_serde(compiler.file_descriptor_set())?);
    files.insert(DESCRIPTOR_SET_FILE.to_owned(), descriptor_set);
    Ok(files)
}

/// The packages whose messages a CLI prints (the admin API, its shared types, the Workload API).
/// The agent<->server API is left out: nothing renders it, and its impls would only cost build time.
const SERDE_PACKAGES: &[&str] = &[".lanyard.admin", ".lanyard.types", ".workload"];

/// pbjson-build's serde impls for every message and enum of [`SERDE_PACKAGES`], one
/// `<package>.serde.rs` per package.
fn generate_serde(
    fds: prost_types::FileDescriptorSet,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut builder = pbjson_build::Builder::new();
    builder
        .extern_path(WELL_KNOWN_TYPES.0, WELL_KNOWN_TYPES.1)
        .preserve_proto_field_names()
        .emit_fields();
    for mut file in fds.file {
        if file.package.as_deref().unwrap_or_default().is_empty() {
            give_package(&mut file, WORKLOAD_PACKAGE);
        }
        builder.register_file_descriptor(file);
    }
    let outputs = builder
        .exclude([WELL_KNOWN_TYPES.0])
        .generate(SERDE_PACKAGES, |_| Ok(Vec::new()))
        .context("pbjson-build failed")?;
    Ok(outputs
        .into_iter()
        .map(|(package, code)| (format!("{package}.serde.rs"), code))
        .collect())
}

/// Moves the package-less `file` into `package`, and its references to its own types with it.
fn give_package(file: &mut prost_types::FileDescriptorProto, package: &str) {
    use prost_types::DescriptorProto;

    /// Fully qualified names (`.Outer.Inner`) of `messages` and their nested messages and enums.
    fn own_names(prefix: &str, messages: &[DescriptorProto], out: &mut Vec<String>) {
        for m in messages {
            let name = format!("{prefix}.{}", m.name());
            out.extend(m.enum_type.iter().map(|e| format!("{name}.{}", e.name())));
            own_names(&name, &m.nested_type, out);
            out.push(name);
        }
    }
    fn requalify(messages: &mut [DescriptorProto], own: &[String], package: &str) {
        for m in messages {
            for field in &mut m.field {
                if let Some(name) = field.type_name.as_mut().filter(|n| own.contains(n)) {
                    *name = format!(".{package}{name}");
                }
            }
            requalify(&mut m.nested_type, own, package);
        }
    }

    let mut own: Vec<String> = file
        .enum_type
        .iter()
        .map(|e| format!(".{}", e.name()))
        .collect();
    own_names("", &file.message_type, &mut own);
    requalify(&mut file.message_type, &own, package);
    file.package = Some(package.to_owned());
}

/// Regenerates `crates/proto/src/gen/`, removing files that are no longer generated. Returns the
/// paths written.
pub(crate) fn write_checked_in(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = generate(root)?;
    let gen_dir = root.join(GEN_DIR);
    fs::create_dir_all(&gen_dir).with_context(|| format!("creating {}", gen_dir.display()))?;
    for stale in read_dir_files(&gen_dir)?.into_keys() {
        if !files.contains_key(&stale) {
            fs::remove_file(gen_dir.join(&stale)).with_context(|| format!("removing {stale}"))?;
        }
    }
    let mut written = Vec::new();
    for (name, contents) in files {
        let path = gen_dir.join(name);
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Compares freshly generated files with the checked-in ones; returns one line per difference.
pub(crate) fn drift(root: &Path) -> anyhow::Result<Vec<String>> {
    let fresh = generate(root)?;
    let checked_in = read_dir_files(&root.join(GEN_DIR))?;
    let mut problems = Vec::new();
    for (name, contents) in &fresh {
        match checked_in.get(name) {
            None => problems.push(format!("missing: {GEN_DIR}/{name}")),
            Some(old) if old != contents => problems.push(format!("differs: {GEN_DIR}/{name}")),
            Some(_) => {}
        }
    }
    for name in checked_in.keys().filter(|name| !fresh.contains_key(*name)) {
        problems.push(format!("extra (no longer generated): {GEN_DIR}/{name}"));
    }
    Ok(problems)
}

/// All `.proto` files under `dir`, recursively, sorted.
fn proto_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The regular files directly in `dir` (name -> contents); empty if `dir` does not exist.
fn read_dir_files(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(name, fs::read(entry.path())?);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in code must be exactly what `cargo xtask codegen` would write today.
    #[test]
    fn checked_in_code_matches_proto() -> anyhow::Result<()> {
        let problems = drift(&repo_root()?)?;
        assert!(
            problems.is_empty(),
            "{DRIFT_MESSAGE}\n{}",
            problems.join("\n")
        );
        Ok(())
    }

    /// Two runs give identical bytes, or the drift test would flap.
    #[test]
    fn generation_is_deterministic() -> anyhow::Result<()> {
        let root = repo_root()?;
        assert_eq!(generate(&root)?, generate(&root)?);
        Ok(())
    }
}
