# oms: build with the Rust toolchain, run on a slim Debian with only the binary.
#
#   docker build -t oms .
#   docker run -p 8080:8080 -v oms-data:/data oms
#
# The default database is SQLite at /data/oms.db; the generated JWT secret sits beside it.

# ---- builder ---------------------------------------------------------------------------------
# The crate uses edition 2024 (Rust >= 1.85); rust:1-bookworm is the current stable toolchain.
FROM rust:1-bookworm AS builder
WORKDIR /app

# Dependencies first, against placeholder sources, so this layer is reused until Cargo.toml,
# Cargo.lock or .cargo/config.toml change (the latter sets jemalloc's build-time options).
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources: the whole context minus .dockerignore. Files read at compile time (the
# migrations embedded by sqlx::migrate!, watched by build.rs) must be in it.
COPY . .
# Make sure cargo rebuilds the crate itself rather than trusting the placeholder's fingerprint.
RUN touch src/main.rs src/lib.rs \
    && rm -rf target/release/.fingerprint/oms-* \
    && cargo build --release --locked \
    && install -m 0755 target/release/oms /usr/local/bin/oms

# ---- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 oms \
    && useradd --system --uid 10001 --gid oms --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin oms \
    && mkdir -p /data \
    && chown oms:oms /data

COPY --from=builder /usr/local/bin/oms /usr/local/bin/oms

USER oms
WORKDIR /data
VOLUME ["/data"]

ENV DATABASE_URL=sqlite:///data/oms.db \
    OMS_BIND=0.0.0.0:8080
EXPOSE 8080

# Liveness only (no auth, no database): the binary itself calls /healthz on OMS_BIND.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["oms", "healthcheck"]

ENTRYPOINT ["oms"]
CMD ["serve"]
