#!/usr/bin/env bash
# System tools the test suite needs, from Debian packages. `make test` and `make test-fast`
# run this first (so does .ci/run through them); it does nothing when every tool is present.
# As root on Debian/Ubuntu it installs the missing packages with apt-get; otherwise it prints
# the one command to run and fails.
set -euo pipefail

# tool on PATH : Debian package that provides it : what needs it
NEEDED=(
  "promtool:prometheus:tests/observability (promtool check/test rules)"
  "chromium:chromium:browser tests"
  "node:nodejs:tests/deploy/test_mongodb.py (runs deploy/compose/mongodb-init.js)"
)

missing=() tools=()
for entry in "${NEEDED[@]}"; do
  IFS=: read -r tool package _ <<<"$entry"
  command -v "$tool" >/dev/null 2>&1 || { missing+=("$package"); tools+=("$tool"); }
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests need: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "missing ${tools[*]}: run \`sudo apt-get install -y --no-install-recommends ${missing[*]}\` (elsewhere: put ${tools[*]} on PATH), then rerun" >&2
exit 1
