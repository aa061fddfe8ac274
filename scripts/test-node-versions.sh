#!/usr/bin/env bash
# The product on the Node versions users run (22, 24), beside the machine's own: each is fetched from the npm
# registry's `node` package into .cache/node-versions/, then the CLI's demo and a cross-section of the suite
# (image reading, dense tasks, DICOM outputs, the served page) run under it, CLI children included
# (the tests spawn process.execPath). A version the registry cannot supply is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSET=(test/io test/dicom test/dense test/dicom-out test/cli/demo.test.ts test/server/page.test.ts)
status=0
for v in ${MEDVLM_NODE_VERSIONS:-22 24}; do
  dir=".cache/node-versions/$v"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    mkdir -p "$dir"
    if ! (cd "$dir" && npm install --no-save --no-audit --no-fund --silent "node@$v" >/dev/null 2>&1); then
      echo "node $v: could not be installed from the npm registry; skipped"
      continue
    fi
  fi
  node_bin="$(pwd)/$dir/node_modules/node/bin/node"
  echo "== node $("$node_bin" --version)"
  "$node_bin" dist/cli/main.js demo >/dev/null || { echo "node $v: demo failed"; status=1; }
  "$node_bin" node_modules/vitest/vitest.mjs run "${SUBSET[@]}" || status=1
done
exit $status
