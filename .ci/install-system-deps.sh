#!/usr/bin/env bash
# System (Debian) packages the test suite needs; CI runs this before the tests. Idempotent:
# each line installs its package only when the tool is missing.
set -euo pipefail

command -v promtool >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus; }  # promtool: tests/observability
