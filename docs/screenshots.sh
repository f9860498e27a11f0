#!/usr/bin/env bash
# Regenerates the README's screenshots of the debug page: the browser test
# opens the demo's pages in headless Chromium and writes what it sees here.
# Needs chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/../internal/browsertest"
go test -count=1 -run '^TestDemoInBrowser$' . -args -shots "$PWD/../../docs"
