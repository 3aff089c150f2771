#!/bin/sh
# One-shot job in temporalio/admin-tools, once the server is healthy: creates
# Telewan's namespace and registers the custom search attributes its workflows
# set (operators filter on them in the UI and with `temporal workflow list`).
# Idempotent: what exists is left alone.
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"

tries=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "setup-temporal: no healthy server at $ADDRESS" >&2; exit 1; }
  sleep 2
done

if ! temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$NAMESPACE" --retention 7d --address "$ADDRESS"
fi

# A new namespace reaches every part of the server only after its caches refresh.
tries=0
until temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "setup-temporal: namespace $NAMESPACE does not answer" >&2; exit 1; }
  sleep 1
done

register() { # <name> <type>
  if temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" | grep -qw "$1"; then
    echo "setup-temporal: search attribute $1 exists"
  else
    temporal operator search-attribute create --namespace "$NAMESPACE" --address "$ADDRESS" --name "$1" --type "$2"
  fi
}

register TelewanChatId Int
register TelewanKind Keyword
register TelewanSourceSlug Keyword
register TelewanOutcome Keyword
echo "setup-temporal: namespace $NAMESPACE is ready"
