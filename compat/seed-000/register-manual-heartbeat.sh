#!/bin/bash
# Seed 000, "Health Checks vs Heartbeats › Manual Heartbeat Mode": the two curl examples exactly as printed.
# The one substitution a reader makes: {service_id} in the heartbeat URL is the id the driver passes
# through sed (run-curl-examples.sh); the text below is unchanged.
# --- verbatim from here on ---
# Register without health checks
curl -X POST http://beacon.local:8097/api/v1/services/register \
  -H "Content-Type: application/json" \
  -d '{
    "name": "my-service",
    "host": "192.168.1.100", 
    "port": 8080,
    "ttl": 300
  }'

# Send heartbeats manually
curl -X PUT http://beacon.local:8097/api/v1/services/{service_id}/heartbeat
