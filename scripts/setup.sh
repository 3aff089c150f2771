#!/usr/bin/env bash
# Everything a fresh clone needs after `npm install`: the pinned Temporal binaries
# and the generated Prisma client. Idempotent and quick when already done.
# TELEWAN_SKIP_TOOLS=1 skips the Temporal binaries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The app image (Dockerfile) runs against a real Temporal server: no binaries.
if [ -z "${TELEWAN_SKIP_TOOLS:-}" ]; then
  bash scripts/install-temporal.sh
fi

client=src/generated/prisma/client.ts
if [ ! -f "$client" ] || [ prisma/schema.prisma -nt "$client" ]; then
  npx --no-install prisma generate >/dev/null
  echo "setup: generated the Prisma client" >&2
fi
