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

# Base image (same for build and runtime): Node 24 "Krypton", an LTS line supported until
# 2028-04-30, on Debian 13 (trixie), pinned by tag and digest. The digest is that of the
# multi-platform image index (linux/amd64, arm64/v8, ppc64le, s390x) published for the tag, as
# docker-library/repo-info records it (repos/node/remote/24.21.0-trixie-slim.md at 3179cb4d, the
# build of 2026-09-19); the tag beside it tells people and Renovate/Dependabot the version. Another pinned image can be given with
#   --build-arg NODE_IMAGE=node:<version>-trixie-slim@sha256:<index digest>
# (`docker buildx imagetools inspect node:<version>-trixie-slim` prints the digest).
# deploy/src/dockerfile-lint.ts refuses a base image without digest (base-digest) and a Node line
# that is not LTS or past its end of life (node-lts). The tests run the code on Node 20, not on
# this image's Node: deploy/README.md, "Images".
ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha256:8ec5d7557396cfe32d21c3f9c13072355ceab22b584578ca4bb28af31120cffe

FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
# The root package.json, package-lock.json and every workspace's package.json: the npm ci layer
# below stays cached until one of them changes.
RUN node deploy/docker/assemble.mjs --manifests /manifests

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# SCARF_ANALYTICS=false: @scarf/scarf (pulled in by swagger-ui-dist) would report the install to
# scarf.sh from its postinstall script; --ignore-scripts already keeps it from running, this keeps
# it off should a script ever run (as does the root package.json's scarfSettings, copied above).
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_TUI=false \
    CI=true \
    SCARF_ANALYTICS=false
COPY --from=manifests /manifests/ ./
# No dependency's install script runs. Those in the lockfile (hasInstallScript): nx's postinstall
# only checks the platform and updates the Nx Cloud client (off here: NX_NO_CLOUD), @scarf/scarf's
# is telemetry. The build needs neither: its native parts (the binaries of Nx and of Vite's
# Rolldown) come as prebuilt optional packages. A dependency that needs its script gets
# `npm rebuild <name>` here, and only that one.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
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
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    SCARF_ANALYTICS=false
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
EXPOSE 8080 9300 9400 9600
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "dist/main.js"]
