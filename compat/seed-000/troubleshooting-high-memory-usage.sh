#!/bin/bash
# Seed 000, "Troubleshooting › Common Issues › 4. High memory usage", as printed except the base URL:
# http://localhost:8080 is http://beacon.local:8097 (see troubleshooting-services-not-discovered.sh).
# --- verbatim from here on ---
# Check service cache size
curl http://beacon.local:8097/api/v1/health | jq '.memory'

# Clear expired services manually
curl -X DELETE http://beacon.local:8097/api/v1/services/cleanup
