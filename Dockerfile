# syntax=docker/dockerfile:1
# The platform's one image: `aiops ingest | evaluate | sinks | demo-app | loadgen | replay |
# backtest | slo`. Build: docker build -t ghcr.io/aiops-stream/aiops:0.1.0 .
# NODE_IMAGE may name any Node.js 24 image on Debian bookworm; `aiops image build` passes the
# base it makes locally (a Debian rootfs plus the official Node.js binary).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile the TypeScript sources to dist/ -------------------------------------------
FROM ${NODE_IMAGE} AS build
# Only behind a TLS-intercepting proxy: a CA file that RUN steps can read (see docs/deploy.md).
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
COPY patches ./patches
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --no-update-notifier
# The sources (.dockerignore keeps tests, docs and local state out), compiled to dist/; then
# what the runtime stage takes is gathered in /out, so it arrives as one layer.
COPY . .
RUN npm run build --no-update-notifier \
    && mkdir -p /out/schemas \
    && cp -r dist bin compose slo package.json /out/ \
    && cp -r schemas/*.avsc schemas/history /out/schemas/

# --- prod-deps: run-time dependencies only (postinstall applies patches/ to kafkajs) ----------
FROM ${NODE_IMAGE} AS prod-deps
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
COPY patches ./patches
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund --no-update-notifier

# --- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# uid/gid 10001, no home, no shell: the processes keep all state in Kafka.
RUN groupadd --system --gid 10001 aiops \
    && useradd --system --uid 10001 --gid aiops --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin aiops

WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
# dist/ (compiled), bin/aiops.js, package.json and what the code reads at run time: the Avro
# schemas, compose/ configuration files (e.g. compose/aiops/evaluate.demo.yaml), slo/.
COPY --from=build /out/ ./

# The root filesystem may be mounted read-only: /tmp (a tmpfs at run time) is the only scratch.
ENV NODE_ENV=production \
    AIOPS_HTTP_HOST=0.0.0.0 \
    TMPDIR=/tmp

# ingest, evaluate, sinks (/health, /ready, /metrics) and the demo shop.
EXPOSE 9464 9465 9466 8080

# Labels last: their values change with every commit, the layers above stay cached.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/aiops-stream/aiops
LABEL org.opencontainers.image.title="aiops" \
      org.opencontainers.image.description="Streaming AIOps and SRE platform: OpenTelemetry metrics from Kafka into real-time anomaly detection, SLOs and burn-rate alerts." \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

USER 10001:10001
# Each command serves /health on its own port, so probes are set per service (Compose, Helm).
HEALTHCHECK NONE
# SIGTERM: the processors commit what they have processed, then exit 0 (within 30 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/aiops.js"]
CMD ["--help"]
