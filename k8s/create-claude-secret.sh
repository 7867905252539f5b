#!/usr/bin/env bash
# Makes (or updates) the claude-auth Secret that Morpheus mounts read-only for its claude CLI
# backend, from your local claude login. File contents never reach the terminal: they go from
# kubectl's client-side dry run straight into kubectl apply through a pipe.
#
#   CLAUDE_HOME   where the login lives (default ~/.claude)
#   NAMESPACE     where Morpheus runs (default: default)
set -euo pipefail

SOURCE="${CLAUDE_HOME:-$HOME/.claude}"
NAMESPACE="${NAMESPACE:-default}"

args=()
missing=()
if [ -f "$SOURCE/config.json" ]; then
  args+=("--from-file=config.json=$SOURCE/config.json")
else
  missing+=("$SOURCE/config.json")
fi
# The claude CLI on Linux writes .credentials.json; older copies and hand-made ones may lack the dot.
if [ -f "$SOURCE/credentials.json" ]; then
  args+=("--from-file=credentials.json=$SOURCE/credentials.json")
elif [ -f "$SOURCE/.credentials.json" ]; then
  args+=("--from-file=credentials.json=$SOURCE/.credentials.json")
else
  missing+=("$SOURCE/credentials.json (or .credentials.json)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "create-claude-secret: missing:" >&2
  for file in "${missing[@]}"; do echo "  $file" >&2; done
  echo "  log in with the claude CLI first, or point CLAUDE_HOME at the folder that has them" >&2
  exit 1
fi
command -v kubectl >/dev/null 2>&1 || { echo "create-claude-secret: kubectl is missing (https://kubernetes.io/docs/tasks/tools/#kubectl)" >&2; exit 1; }

kubectl create secret generic claude-auth --namespace "$NAMESPACE" "${args[@]}" --dry-run=client -o yaml |
  kubectl apply -f - >/dev/null
echo "secret/claude-auth applied in namespace $NAMESPACE (keys: config.json, credentials.json)"
echo "Morpheus reads it on start: kubectl rollout restart deployment/kgents-morpheus --namespace $NAMESPACE"
