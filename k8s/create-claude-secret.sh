#!/usr/bin/env bash
# Makes (or updates) the claude-auth Secret that Morpheus mounts read-only for the claude CLI,
# from your local claude login. The file contents are never printed.
set -euo pipefail

SOURCE="${CLAUDE_HOME:-$HOME/.claude}"
NAMESPACE="${NAMESPACE:-default}"
command -v kubectl >/dev/null 2>&1 || { echo "create-claude-secret: kubectl is missing" >&2; exit 1; }

args=()
[ -f "$SOURCE/config.json" ] && args+=("--from-file=config.json=$SOURCE/config.json")
for candidate in credentials.json .credentials.json; do
  if [ -f "$SOURCE/$candidate" ]; then args+=("--from-file=credentials.json=$SOURCE/$candidate"); break; fi
done
if [ ${#args[@]} -lt 2 ]; then
  echo "create-claude-secret: need $SOURCE/config.json and $SOURCE/credentials.json (or .credentials.json); found ${#args[@]} of 2" >&2
  echo "  log in with the claude CLI first, or set CLAUDE_HOME" >&2
  exit 1
fi
kubectl create secret generic claude-auth --namespace "$NAMESPACE" "${args[@]}" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
echo "secret/claude-auth updated in namespace $NAMESPACE (restart Morpheus to pick it up: kubectl rollout restart deploy/kgents-morpheus)"
