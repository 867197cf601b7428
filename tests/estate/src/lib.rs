//! The deployment's offline checks live in this crate's `tests/estate` (run by `cargo test
//! --workspace`, so by `scripts/test`): every `.tf` under `terraform/` parsed with `hcl-rs` and held
//! to the estate's invariants, `cloudbuild.yaml` against the Dockerfile and the Terraform services,
//! and the Dockerfile's targets against the workspace's binaries. The library itself is empty: the
//! crate exists so these tests have a home that is neither a function nor `shared`.
