#!/bin/bash
# Runs seed 000's curl examples (the files beside this one, unchanged) on the client host and
# prints each one's output under a marker line, for the test to parse.
# register-manual-heartbeat.sh prints a literal {service_id} placeholder in its heartbeat URL,
# which its reader replaces by hand; here sed puts in the id that the health-check example's
# registration returned (the same service: both register my-service at 192.168.1.100:8080).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
section() { printf '\n=== %s\n' "$1"; }
section register-with-health-checks
health=$(bash "$here/register-with-health-checks.sh")
printf '%s' "$health"
id=$(printf '%s' "$health" | jq -r '.service_id')
section register-manual-heartbeat
bash -c "$(sed "s/{service_id}/$id/g" "$here/register-manual-heartbeat.sh")"
section troubleshooting-services-not-discovered
bash "$here/troubleshooting-services-not-discovered.sh"
section end
