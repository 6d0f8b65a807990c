# syntax=docker/dockerfile:1
# The returnbridge image: one binary for every role (`serve --role api|gateway|all`), `migrate` and
# `keys`. Build from the repository root:
#   docker build -t returnbridge:0.1.0 .
# Run (the binary listens on loopback unless told otherwise):
#   docker run -p 50051:50051 -e RETURNBRIDGE_DATABASE__URL=postgres://... returnbridge:0.1.0 \
#     serve --listen 0.0.0.0:50051

# The workspace's rust-version; Debian 12 (bookworm) to match the runtime's glibc.
ARG RUST_VERSION=1.94
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and build artefacts between builds; the binary is copied out of
# the cached target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin returnbridge \
    && install -D -m 0755 target/release/returnbridge /out/returnbridge

# glibc and libgcc, no shell, no package manager; runs as uid/gid 65532 (nonroot).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/returnbridge /usr/local/bin/returnbridge
USER 65532:65532
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/returnbridge"]
CMD ["serve"]
