# voiceport-server with the demo page and the npm package, as one image.
# Build: docker build -t voiceport .   Run: docker run -p 8080:8080 voiceport
# Configuration: the VOICEPORT_* variables (README, "Server flags").

FROM rust:1.95-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
    && cargo install --locked wasm-pack \
    && cargo install --locked wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
    && scripts/build-web.sh \
    && cargo build --locked --release --bin voiceport-server

FROM debian:bookworm-slim
# curl serves the HEALTHCHECK only.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home voiceport
COPY --from=build /src/target/release/voiceport-server /usr/local/bin/voiceport-server
COPY --from=build /src/dist /srv/voiceport/www
COPY --from=build /src/models/licenses /srv/voiceport/model-licenses
COPY --from=build /src/LICENSE /srv/voiceport/LICENSE
USER 10001
ENV VOICEPORT_ADDR=0.0.0.0:8080 \
    VOICEPORT_WWW=/srv/voiceport/www
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/health/live"]
# SIGTERM drains (--drain-secs); give `docker stop -t` at least that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/voiceport-server"]
