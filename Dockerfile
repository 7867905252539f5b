# The nucleus and Morpheus image (reflexes ship separately, as Spin OCI artifacts).
# Build: docker build -t localhost:5001/kgents-edge:latest .
# Run:   docker run -p 8081:8081 localhost:5001/kgents-edge:latest            (nucleus)
#        docker run -p 8080:8080 localhost:5001/kgents-edge:latest morpheus --host 0.0.0.0

FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` refuses this lockfile (npm omits optional platform binaries that were never
# published); `npm install` still installs exactly the locked versions.
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production \
    KGENTS_LOG_LEVEL=info
# The claude CLI for Morpheus's claude-cli backend; its credentials come from a mounted Secret.
# The package is a small wrapper whose postinstall copies in a native binary from its
# platform dependency, so the Node version does not matter at run time (npm may warn that
# the wrapper asks for Node 22).
RUN npm install -g @anthropic-ai/claude-code@2.1.330 --no-audit --no-fund && npm cache clean --force
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# What `bin/kgents.js` imports, statically or lazily, for every command (cli/index.ts registers
# them all), plus the agent manifests the nucleus loads. Owned by root: the app cannot rewrite
# its own code.
COPY package.json tsconfig.json index.ts ./
COPY bin ./bin
COPY cli ./cli
COPY common ./common
COPY compiler ./compiler
COPY cytoplasm ./cytoplasm
COPY nucleus ./nucleus
COPY spinkube ./spinkube
COPY agents ./agents
# The image's own user (uid 1000), never root; the Kubernetes manifests pin the same uid.
USER node
EXPOSE 8080 8081
ENTRYPOINT ["node", "bin/kgents.js"]
CMD ["nucleus", "--host", "0.0.0.0"]
