#!/usr/bin/env bash
# Creates (or completes) a Kind cluster ready for kgents edge on SpinKube. Safe to run again:
# every step checks or converges what is already there. Needs docker, kind, kubectl and helm.
#
# Versions are the ones the SpinKube docs name (spinkube.dev "Quickstart" and "Installing with
# Helm", spinframework/spinkube-docs as of 2026-04): spin-operator 0.6.1 (chart, CRDs, RuntimeClass,
# executor), cert-manager v1.20.0, containerd-shim-spin v0.24.0 (Spin 3.6.3). The shim comes
# baked into the Kind node image named in kind-config.yaml, so nothing installs it at run time.
set -euo pipefail

CLUSTER=kgents
REGISTRY_NAME=kind-registry
REGISTRY_PORT=5001
# distribution 2.8, the registry generation `kgents push` is tested against (Debian docker-registry).
REGISTRY_IMAGE=registry:2.8.3
CERT_MANAGER_VERSION=v1.20.0
SPIN_OPERATOR_VERSION=0.6.1
# Informational: the node image tag in kind-config.yaml carries this shim.
SHIM_VERSION=v0.24.0

# Checked before anything else, so a fresh machine learns everything it lacks at once. (A case,
# not an associative array: macOS still ships bash 3.2.)
hint() {
  case "$1" in
    docker) echo "https://docs.docker.com/get-docker/" ;;
    kind) echo "https://kind.sigs.k8s.io/docs/user/quick-start/#installation" ;;
    kubectl) echo "https://kubernetes.io/docs/tasks/tools/#kubectl" ;;
    helm) echo "https://helm.sh/docs/intro/install/" ;;
  esac
}
missing=()
for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: missing: ${missing[*]}" >&2
  for tool in "${missing[@]}"; do echo "  install $tool: $(hint "$tool")" >&2; done
  exit 1
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RELEASE="https://github.com/spinframework/spin-operator/releases/download/v${SPIN_OPERATOR_VERSION}"
step() { printf '\n==> %s\n' "$*"; }

step "local registry ${REGISTRY_NAME}: localhost:${REGISTRY_PORT} on this machine"
if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null || true)" = "true" ]; then
  echo "already running"
elif docker inspect "$REGISTRY_NAME" >/dev/null 2>&1; then
  docker start "$REGISTRY_NAME" >/dev/null
else
  # Loopback only: the registry has no authentication.
  docker run -d --restart=always -p "127.0.0.1:${REGISTRY_PORT}:5000" --network bridge \
    --name "$REGISTRY_NAME" "$REGISTRY_IMAGE" >/dev/null
fi

step "Kind cluster ${CLUSTER} (node image with containerd-shim-spin ${SHIM_VERSION})"
# A here-string, not a pipe: under pipefail, `kind ... | grep -q` can fail when grep exits first.
clusters="$(kind get clusters 2>/dev/null || true)"
if grep -qx "$CLUSTER" <<<"$clusters"; then
  echo "already exists"
else
  kind create cluster --config "$HERE/kind-config.yaml"
fi
kubectl config use-context "kind-${CLUSTER}" >/dev/null

step "containerd on each node: localhost:${REGISTRY_PORT} -> http://${REGISTRY_NAME}:5000"
for node in $(kind get nodes --name "$CLUSTER"); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:${REGISTRY_PORT}"
  printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" |
    docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:${REGISTRY_PORT}/hosts.toml"
done
if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME")" = "null" ]; then
  docker network connect kind "$REGISTRY_NAME"
else
  echo "registry already on the kind network"
fi

step "document the registry (ConfigMap kube-public/local-registry-hosting, KEP-1755)"
kubectl apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:${REGISTRY_PORT}"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML

step "cert-manager ${CERT_MANAGER_VERSION} (spin-operator's admission webhooks need its certificates)"
kubectl apply -f "https://github.com/cert-manager/cert-manager/releases/download/${CERT_MANAGER_VERSION}/cert-manager.yaml"
kubectl wait --for=condition=available --timeout=300s -n cert-manager \
  deployment/cert-manager deployment/cert-manager-cainjector deployment/cert-manager-webhook

step "SpinKube ${SPIN_OPERATOR_VERSION}: CRDs (SpinApp, SpinAppExecutor)"
kubectl apply -f "${RELEASE}/spin-operator.crds.yaml"
kubectl wait --for=condition=established --timeout=60s \
  crd/spinapps.core.spinkube.dev crd/spinappexecutors.core.spinkube.dev

step "RuntimeClass wasmtime-spin-v2 (handler: spin, the runtime kind-config.yaml registers)"
kubectl apply -f "${RELEASE}/spin-operator.runtime-class.yaml"

step "spin-operator ${SPIN_OPERATOR_VERSION} (Helm, namespace spin-operator)"
helm upgrade --install spin-operator oci://ghcr.io/spinframework/charts/spin-operator \
  --version "$SPIN_OPERATOR_VERSION" --namespace spin-operator --create-namespace --wait

step "SpinAppExecutor containerd-shim-spin (SpinApps run under the RuntimeClass above)"
kubectl apply -f "${RELEASE}/spin-operator.shim-executor.yaml"

step "ready. Next: build and push the nucleus image, kubectl apply -k k8s/, npx kgents deploy (docs/readme/40-kind.md)"
