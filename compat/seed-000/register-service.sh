#!/bin/bash
# Seed 000 (Bitsperity Beacon), "Developer Quick Start › Option 2: Manual Heartbeat Registration",
# the script register-service.sh exactly as printed (its shebang is the line above). Unchanged:
# BEACON_URL comes from the environment, as in the seed's compose file.
# --- verbatim from here on ---
# register-service.sh
set -e

# Register with Beacon
RESPONSE=$(curl -s -X POST ${BEACON_URL}/api/v1/services/register \
  -H "Content-Type: application/json" \
  -d '{
    "name": "my-service",
    "type": "api", 
    "host": "'$(hostname -i)'",
    "port": 8080,
    "protocol": "http",
    "ttl": 300,
    "tags": ["production", "api"]
  }')

# Extract service_id
SERVICE_ID=$(echo $RESPONSE | jq -r '.service_id')
echo "Registered as: $SERVICE_ID"

# Start heartbeat in background
(
  while true; do
    sleep 60
    curl -s -X PUT ${BEACON_URL}/api/v1/services/${SERVICE_ID}/heartbeat || true
  done
) &

# Store SERVICE_ID for cleanup
echo $SERVICE_ID > /tmp/beacon_service_id
