#!/usr/bin/env bash
# odod's main job on the local cluster, from a terminal: bring the cluster
# up, create a Node.js component from testdata/nodejs-app, push it, call
# the app, change one file, push again (only that file goes), and show the
# component. The first push starts the folder's background daemon, and the
# second is handed to it. Leaves the component running in namespace
# odod-demo; run `bin/odod delete --context /tmp/odod-demo` to remove it
# (and `bin/odod daemon stop --context /tmp/odod-demo` to end the daemon
# before its 30 idle minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

hack/cluster up >/dev/null
export KUBECONFIG
KUBECONFIG="$(hack/cluster env | sed -n 's/^export KUBECONFIG=//p')"
make -s build
kubectl=("${ODOD_CLUSTER_STATE:-hack/.state}/bin/kubectl" --kubeconfig "$KUBECONFIG")
"${kubectl[@]}" get namespace odod-demo >/dev/null 2>&1 || "${kubectl[@]}" create namespace odod-demo >/dev/null

ws=/tmp/odod-demo
rm -rf "$ws" && mkdir -p "$ws" && cp -r testdata/nodejs-app/. "$ws"
echo "== odod create nodejs hello --port 8080 (in $ws)"
bin/odod create nodejs hello --context "$ws" --project odod-demo --port 8080 --force
echo "== odod push"
bin/odod push --context "$ws"

pod=$("${kubectl[@]}" -n odod-demo get pods -l app.kubernetes.io/instance=hello -o jsonpath='{.items[0].metadata.name}')
"${kubectl[@]}" -n odod-demo port-forward "$pod" 18080:8080 >/dev/null 2>&1 &
pf=$!
trap 'kill $pf 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS http://127.0.0.1:18080/ 2>/dev/null && break; sleep 0.2; done

echo "== edit lib/greeting.js, odod push"
echo "exports.greeting = () => 'Hello again from odod';" > "$ws/lib/greeting.js"
bin/odod push --context "$ws"
for _ in $(seq 50); do out=$(curl -fsS http://127.0.0.1:18080/ 2>/dev/null || true); [ "$out" = "Hello again from odod" ] && break; sleep 0.2; done
echo "the app answers: $out"
echo "== odod describe"
bin/odod describe --context "$ws"
