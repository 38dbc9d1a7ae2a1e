# The pipeline image: every `pdmctl` command, run from TypeScript sources through tsx.
# docker-compose.kafka.yml builds it as pdm-stream:local for its `pipeline` profile.
FROM node:24-bookworm-slim

# onnxruntime-node would download CUDA binaries during install; its CPU runtime is bundled.
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false

WORKDIR /app
# The services write model versions and state under /app, so the unprivileged `node` user of the
# base image owns it; nothing runs as root.
RUN chown node:node /app
USER node

# Dependencies first, so a source change doesn't reinstall them.
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node patches ./patches
RUN npm ci --omit=dev && npm cache clean --force

COPY --chown=node:node . .
# The console (served by `pdmctl run api` at /): npm ci's postinstall built nothing, the sources were not there yet.
RUN npm run build:console
ENV MODELS_DIR=/app/models

ENTRYPOINT ["npx", "pdmctl"]
CMD ["--help"]
