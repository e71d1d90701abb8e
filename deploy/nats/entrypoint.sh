#!/bin/sh
# nats-server for docker compose: each identity's password comes from its compose secret
# (/run/secrets/nats-<identity>) into the variable deploy/nats/nats.conf reads
# (NATS_PASSWORD_<IDENTITY>); nats-server takes unset config variables from its environment.
set -eu
for file in /run/secrets/nats-*; do
  [ -f "$file" ] || continue
  identity=${file#/run/secrets/nats-}
  variable=NATS_PASSWORD_$(echo "$identity" | tr 'a-z-' 'A-Z_')
  export "$variable=$(cat "$file")"
done
exec nats-server -c /etc/nats/beacon.conf "$@"
