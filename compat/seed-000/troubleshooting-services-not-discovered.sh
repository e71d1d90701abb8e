#!/bin/bash
# Seed 000, "Troubleshooting › Common Issues › 3. Services not discovered", as printed except the base URL:
# http://localhost:8080 (the original server's own port, run on its host) is http://beacon.local:8097,
# Beacon's one base URL, reached from another host of the LAN.
# --- verbatim from here on ---
# Check service TTL status
   curl http://beacon.local:8097/api/v1/services/expired

# Check mDNS registration
curl http://beacon.local:8097/api/v1/health
