#!/usr/bin/env bash
# Creates (or completes) a Kind cluster ready for kgents edge on SpinKube. Safe to run again:
# every step checks what is already there. Needs docker, kind, kubectl and helm.
set -euo pipefail

CLUSTER=kgents
REGISTRY_NAME=kind-registry
REGISTRY_PORT=5001
CERT_MANAGER_VERSION=v1.14.5
KWASM_CHART_VERSION=0.2.3
SHIM_VERSION=v0.19.0
SPIN_OPERATOR_VERSION=0.6.1
missing=()
for tool in docker kind kubectl helm; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: missing: ${missing[*]}" >&2
  echo "  install them first: https://docs.docker.com/get-docker/ https://kind.sigs.k8s.io/docs/user/quick-start/ https://kubernetes.io/docs/tasks/tools/ https://helm.sh/docs/intro/install/" >&2
  exit 1
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
step() { printf '\n==> %s\n' "$*"; }

step "local registry ${REGISTRY_NAME} on localhost:${REGISTRY_PORT}"
if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null || true)" != "true" ]; then
  docker run -d --restart=always -p "127.0.0.1:${REGISTRY_PORT}:5000" --network bridge --name "$REGISTRY_NAME" registry:2
else
  echo "already running"
fi

step "Kind cluster ${CLUSTER}"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  echo "already exists"
else
  kind create cluster --config "$HERE/kind-config.yaml"
fi
kubectl config use-context "kind-${CLUSTER}" >/dev/null

step "containerd on each node pulls localhost:${REGISTRY_PORT} from ${REGISTRY_NAME}"
for node in $(kind get nodes --name "$CLUSTER"); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:${REGISTRY_PORT}"
  printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:${REGISTRY_PORT}/hosts.toml"
done
if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME")" = "null" ]; then
  docker network connect kind "$REGISTRY_NAME"
fi
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

step "cert-manager ${CERT_MANAGER_VERSION}"
kubectl apply -f "https://github.com/cert-manager/cert-manager/releases/download/${CERT_MANAGER_VERSION}/cert-manager.yaml"
kubectl wait --for=condition=available --timeout=300s deployment/cert-manager-webhook -n cert-manager

step "containerd-shim-spin ${SHIM_VERSION} on the nodes (KWasm node-installer)"
helm repo add kwasm http://kwasm.sh/kwasm-operator/ >/dev/null 2>&1 || true
helm upgrade --install kwasm-operator kwasm/kwasm-operator --version "$KWASM_CHART_VERSION" \
  --namespace kwasm --create-namespace \
  --set "kwasmOperator.installerImage=ghcr.io/spinframework/containerd-shim-spin/node-installer:${SHIM_VERSION}"
kubectl annotate node --all kwasm.sh/kwasm-node=true --overwrite

step "SpinKube ${SPIN_OPERATOR_VERSION}: CRDs, RuntimeClass wasmtime-spin-v2, spin-operator, containerd-shim-spin executor"
RELEASE="https://github.com/spinframework/spin-operator/releases/download/v${SPIN_OPERATOR_VERSION}"
kubectl apply -f "${RELEASE}/spin-operator.crds.yaml"
kubectl apply -f "${RELEASE}/spin-operator.runtime-class.yaml"
helm upgrade --install spin-operator oci://ghcr.io/spinframework/charts/spin-operator \
  --version "$SPIN_OPERATOR_VERSION" --namespace spin-operator --create-namespace --wait
kubectl apply -f "${RELEASE}/spin-operator.shim-executor.yaml"

step "ready: build and push the nucleus image, then kubectl apply -k k8s/ and npx kgents deploy (see README)"
