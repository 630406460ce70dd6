# syntax=docker/dockerfile:1
#
# One image per app, from the Nx workspace:
#
#   docker build --build-arg APP=collector  -t orderflow-collector:0.0.1 .
#   docker build --build-arg APP=aggregator -t orderflow-aggregator:0.0.1 .
#   docker build --build-arg APP=gateway    -t orderflow-gateway:0.0.1 .    (includes the dashboard)
#
# Stages: manifests (package files only) -> build (npm ci, nx run-many -t build; the same for every
# APP, so a second image reuses it from the cache) -> assemble (the APP's dist and its workspace
# libraries) -> runtime (production dependencies of the APP + dist, non-root, read-only friendly).
# Reviewed against hadolint's rules by deploy/src/dockerfile.spec.ts (.hadolint.yaml for hadolint).

# Pinned base image (same for build and runtime): Node 24 "Krypton", an LTS line supported until
# 2028-04-30, on Debian 13 (trixie). deploy/src/dockerfile-lint.ts (rule node-lts) refuses a Node
# line that is not LTS or past its end of life. Pin the digest too in CI:
#   --build-arg NODE_IMAGE=node:24.21.0-trixie-slim@sha256:<digest>
# The tests run the code on Node 20, not on this image's Node: deploy/README.md, "Images".
ARG NODE_IMAGE=node:24.21.0-trixie-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
# The root package.json, package-lock.json and every workspace's package.json: the npm ci layer
# below stays cached until one of them changes.
RUN node deploy/docker/assemble.mjs --manifests /manifests

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_TUI=false \
    CI=true
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
RUN npx nx run-many -t build --outputStyle=static

FROM build AS assemble
ARG APP=collector
RUN node deploy/docker/assemble.mjs --app "${APP}" /out

FROM ${NODE_IMAGE} AS runtime
ARG APP=collector
LABEL org.opencontainers.image.title="orderflow-${APP}" \
      org.opencontainers.image.description="Order-flow analytics: ${APP}" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    ORDERFLOW_APP=${APP} \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=assemble /out/manifests/ ./
# Production dependencies of this app only (its workspace libraries are linked, not downloaded);
# no install scripts run.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace "@orderflow/${APP}" --ignore-scripts --no-audit --no-fund
COPY --from=assemble /out/app/ ./
# Everything above belongs to root and is read-only for the app's user: the image runs with a
# read-only root filesystem (Kubernetes mounts an emptyDir at /tmp).
USER 1000:1000
WORKDIR /app/apps/${APP}
EXPOSE 8080 9300 9400
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "dist/main.js"]
