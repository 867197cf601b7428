//! The estate's invariants, checked offline: the Terraform files parsed with `hcl-rs`
//! (`terraform.rs`), `cloudbuild.yaml` (`cloudbuild.rs`) and the Dockerfile (`dockerfile.rs`), each
//! read from the repository as it is. `terraform fmt` and the policy module's `terraform test` run
//! beside these in `scripts/test`.

mod cloudbuild;
mod dockerfile;
mod hcl_model;
mod secrets;
mod terraform;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the repository, read whole.
pub fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The binaries the workspace builds, from `cargo metadata`.
pub fn workspace_binaries() -> BTreeSet<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|package| package["targets"].as_array().unwrap())
        .filter(|target| {
            target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "bin")
        })
        .map(|target| target["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Words of a space-separated list (`SERVICES=webhook api` and the like).
pub fn words(list: &str) -> BTreeSet<String> {
    list.split_whitespace().map(str::to_owned).collect()
}
