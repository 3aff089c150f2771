# The Telewan app image: gateway, worker and migrations (docker-compose.yml picks
# the command). Node 24, as `npm ci` would also install it; the Temporal binaries
# (tools/, for `npm run dev` and the tests) are not needed and not downloaded.
FROM node:24.21.0-bookworm-slim

WORKDIR /app
ENV TELEWAN_SKIP_TOOLS=1

# Dependencies first, so that a change to the code does not reinstall them. The
# postinstall step (scripts/setup.sh) generates the Prisma client from the schema.
COPY package.json package-lock.json .npmrc prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund && npm cache clean --force

# jemalloc, which the worker runs on (docker-compose.yml preloads it): with glibc's
# malloc a worker holding 2,000 requests in flight kept ~230 MB more RSS, memory
# its threads had freed (docs/PERFORMANCE.md §5). One path on every architecture.
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2

COPY . .
USER node

ENV NODE_ENV=production
EXPOSE 8080
CMD ["node_modules/.bin/tsx", "src/gateway/server.ts"]
