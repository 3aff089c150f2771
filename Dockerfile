# The Telewan images, from one file (docker-compose.yml picks the target):
#
#   runtime (the default, last): gateway and worker as compiled JavaScript on
#            Node 24 LTS, production dependencies only, as the non-root user `node`.
#            No TypeScript, no tsx, no simulators or dev stack (sandbox/ is not
#            compiled: tsconfig.build.json compiles src/ only), no Temporal binaries.
#   tools:   the source with every dependency: migrations (`npm run db:deploy`, which
#            needs Prisma's schema engine, a dev dependency) and operators' scripts
#            (`npm run redrive`, `npm run history:export`).
#
# test/build/production-image.test.ts checks that what runtime runs imports nothing
# outside the production dependencies.

FROM node:24.21.0-bookworm-slim AS base
WORKDIR /app
# The app runs against a real Temporal server: the postinstall step downloads no binaries.
ENV TELEWAN_SKIP_TOOLS=1
COPY package.json package-lock.json .npmrc prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma

# Every dependency; the postinstall step (scripts/setup.sh) generates the Prisma client.
FROM base AS tools
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY . .
USER node

# The compiled code and the workflow bundle (dist/workflow-bundle.js: the worker
# bundles nothing at start, so webpack's memory never enters its RSS).
FROM tools AS build
USER root
RUN npm run build

# Production dependencies only. The Prisma client was generated in `tools` and is
# compiled into dist/generated, so no postinstall step is needed here.
FROM base AS runtime
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
  && rm -rf scripts prisma prisma.config.ts
# jemalloc, which the worker runs on (docker-compose.yml preloads it): with glibc's
# malloc a worker holding 2,000 requests in flight kept ~230 MB more RSS, memory
# its threads had freed (docs/PERFORMANCE.md §5). One path on every architecture.
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2
# sharp's native binary comes with its optional dependency (@img/sharp-linux-*), installed above.
COPY --from=build /app/dist ./dist
USER node
ENV NODE_ENV=production
EXPOSE 8080
CMD ["node", "dist/gateway/server.js"]
