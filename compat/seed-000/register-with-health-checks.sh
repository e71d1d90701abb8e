#!/bin/bash
# Seed 000, "Health Checks vs Heartbeats › Health Check Mode (Recommended)": the curl example exactly as printed.
# http://beacon.local:8097 is unchanged: the test maps beacon.local to the stack host in the client
# namespace's /etc/hosts (as mDNS would resolve it on the LAN).
# --- verbatim from here on ---
# Register with health checks
curl -X POST http://beacon.local:8097/api/v1/services/register \
  -H "Content-Type: application/json" \
  -d '{
    "name": "my-service",
    "host": "192.168.1.100",
    "port": 8080,
    "health_check_url": "http://192.168.1.100:8080/health",
    "health_check_interval": 30
  }'
