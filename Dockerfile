# syntax=docker/dockerfile:1
# wxmock in a container: a fully static binary (musl) on an empty base image.
#
#   docker build -t wxmock .
#   docker run --rm -p 7070:7070 -e WXMOCK_ADMIN_TOKEN="$(openssl rand -hex 16)" wxmock
#
# In a container the fake listens on every interface (0.0.0.0:7070), so the control API
# (/__admin) must be protected: give it a token with WXMOCK_ADMIN_TOKEN (clients then send
# `Authorization: Bearer <token>`), or state that it is open on purpose with WXMOCK_ADMIN_OPEN=1
# on a network only your tests can reach. Any other `wxmock` command runs too:
#   docker run --rm wxmock fixture variants

ARG RUST_VERSION=1
FROM rust:${RUST_VERSION}-bookworm AS builder
ARG TARGET=x86_64-unknown-linux-musl
# musl-tools gives the C compiler that ring (a JWT dependency of the bundled reference backend)
# needs for the musl target.
RUN rustup target add "${TARGET}" \
 && apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target "${TARGET}" -p wxmock \
 && cp "target/${TARGET}/release/wxmock" /wxmock \
 && /wxmock --version

FROM scratch
COPY --from=builder /wxmock /wxmock
ENV WXMOCK_LISTEN=0.0.0.0:7070
EXPOSE 7070
USER 65534:65534
ENTRYPOINT ["/wxmock"]
CMD ["serve"]
