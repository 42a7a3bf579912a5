# syntax=docker/dockerfile:1
# OpenCTI Security Coverage connector.
#   docker build -t opencti-security-coverage-connector:0.1.0 .
#   docker run --rm opencti-security-coverage-connector:0.1.0 config options
# Three stages: `build` compiles TypeScript with the dev dependencies, `deps` installs the production
# dependencies only, `runtime` gets dist/ + those node_modules and nothing else (no compiler, no tests).
# Every stage uses the same pinned Node base (24, the active LTS until 2028-04-30), so the native ABI
# of better-sqlite3 (the embedded score-history store) is the one the code runs on.

FROM node:24.18.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; the only install scripts in
# the lock file belong to optional dev dependencies of testcontainers (native ssh2/cpu-features).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
# Type-checks and emits dist/src and dist/schemas; fails the build on a type error.
RUN npm run build

FROM node:24.18.0-bookworm-slim AS deps
# Build tools for the one native module, in this stage only (prebuild-install uses a prebuilt binary
# when it can download one and compiles otherwise).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

FROM node:24.18.0-bookworm-slim AS runtime
# tini is PID 1: it forwards SIGTERM to node (which then stops consuming, drains in-flight jobs for up
# to WORKER_SHUTDOWN_GRACE_MS and closes) and reaps zombies. Safe alongside `docker run --init` too.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HTTP_PORT=9464 \
    COVERAGE_RULES_DIRS=/data/rules \
    SCHEDULER_STATE_FILE=/var/lib/coverage-connector/schedule.json \
    HISTORY_SQLITE_PATH=/var/lib/coverage-connector/history.db
# The unprivileged `node` user (uid 1000) of the base image owns the only directory it writes: the
# state dir. Rules and inventories under /data are read-only inputs (mount them :ro).
RUN mkdir -p /var/lib/coverage-connector /data/rules \
 && chown -R node:node /var/lib/coverage-connector
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root scripts/healthcheck.js ./scripts/healthcheck.js
USER node
VOLUME ["/var/lib/coverage-connector", "/data"]
EXPOSE 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/scripts/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli/index.js"]
CMD ["run"]
