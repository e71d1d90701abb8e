#!/bin/sh
# One random NATS password per Beacon identity, for docker compose's secrets, in
# deploy/nats/secrets/ (kept out of git). Existing ones are kept. Run once before
# `docker compose up`:   sh deploy/nats/make-secrets.sh
# Passwords are a letter then hex digits: nats-server reads them from its environment as
# config values, where some other characters would end or change the value.
set -eu
dir=$(dirname "$0")/secrets
mkdir -p "$dir"
chmod 700 "$dir"
for identity in registry-api ttl-reaper health-prober mdns-announcer node-role-elector realtime-gateway beacon-reader; do
  file=$dir/$identity
  [ -s "$file" ] && continue
  # Readable inside the containers (uid 1000 for the apps); the directory keeps other host users out.
  (umask 022 && printf 'b%s\n' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" > "$file")
  echo "wrote $file"
done
