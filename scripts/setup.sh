#!/usr/bin/env bash
# Everything a fresh clone needs after `npm install`: the pinned Temporal binaries
# and the generated Prisma client. Idempotent and quick when already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-temporal.sh

client=src/generated/prisma/client.ts
if [ ! -f "$client" ] || [ prisma/schema.prisma -nt "$client" ]; then
  npx --no-install prisma generate >/dev/null
  echo "setup: generated the Prisma client" >&2
fi
