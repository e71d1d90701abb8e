#!/bin/bash
# Runs seed 000's "4. High memory usage" commands (the file beside this one, unchanged) on the
# client host, under marker lines for the test to parse.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
printf '=== troubleshooting-high-memory-usage\n'
bash "$here/troubleshooting-high-memory-usage.sh"
printf '\n=== end\n'
