"""Browses DNS-SD service types with python3-zeroconf (an implementation independent of
Beacon's) and prints one JSON line per change: Added/Updated (resolved) and Removed."""
import json
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

types = sys.argv[1].split(",")
interface = sys.argv[2]
zc = Zeroconf(interfaces=[interface], ip_version=IPVersion.V4Only)
# Each ServiceBrowser calls back on its own thread: without a lock two lines can interleave.
output = threading.Lock()


def emit(entry):
    line = json.dumps(entry) + "\n"
    with output:
        sys.stdout.write(line)
        sys.stdout.flush()


def resolve(entry, zeroconf, service_type, name):
    info = zeroconf.get_service_info(service_type, name, timeout=3000)
    if info is not None:
        entry.update(
            port=info.port,
            server=info.server,
            addresses=info.parsed_addresses(),
            properties={
                key.decode("utf-8", "replace"): (None if value is None else value.decode("utf-8", "replace"))
                for key, value in info.properties.items()
            },
        )
    emit(entry)


def on_change(zeroconf, service_type, name, state_change):
    entry = {"at": time.time(), "event": state_change.name, "type": service_type, "name": name}
    if state_change is ServiceStateChange.Removed:
        emit(entry)
    else:
        resolve(entry, zeroconf, service_type, name)


browsers = [ServiceBrowser(zc, service_type, handlers=[on_change]) for service_type in types]
emit({"event": "ready"})
try:
    # Until the test closes our stdin; "resolve <type> <name>" asks again (cache first, as an
    # app would), so a change the browser is not told of as an event can still be seen.
    for line in sys.stdin:
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == "resolve":
            resolve({"at": time.time(), "event": "resolved", "type": parts[1], "name": parts[2].strip()}, zc, parts[1], parts[2].strip())
finally:
    zc.close()
