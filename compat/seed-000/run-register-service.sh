#!/bin/bash
# Runs seed 000's register-service.sh unchanged on the client host, the way its compose file does
# (BEACON_URL in the environment), and reports what it left behind.
#
# Two things are arranged from outside the script, never by editing it:
# - a private /tmp (ip netns exec gives this process its own mount namespace), because the script
#   writes /tmp/beacon_service_id;
# - time: its heartbeat loop sleeps 60 s between heartbeats. A `sleep` earlier on PATH turns
#   exactly `sleep 60` into `sleep $COMPAT_HEARTBEAT_SECONDS`, so the test sees heartbeats land
#   within seconds; every other sleep, and every request, is the script's own.
#
# usage: BEACON_URL=... COMPAT_HEARTBEAT_SECONDS=3 run-register-service.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Opened before /tmp is covered: the checkout itself may live under /tmp.
exec 3<"$here/register-service.sh"
mount -t tmpfs compat-tmp /tmp
mkdir /tmp/compat-bin
cat > /tmp/compat-bin/sleep <<SHIM
#!/bin/sh
if [ "\$#" -eq 1 ] && [ "\$1" = 60 ]; then exec /bin/sleep "$COMPAT_HEARTBEAT_SECONDS"; fi
exec /bin/sleep "\$@"
SHIM
chmod +x /tmp/compat-bin/sleep
export PATH="/tmp/compat-bin:$PATH"
echo "hostname -i: $(hostname -i)"
bash /dev/fd/3
echo "exit: $?"
echo "id file: $(cat /tmp/beacon_service_id)"
# The script has returned; its heartbeat loop goes on in the background (in this process group,
# which the test kills at the end).
