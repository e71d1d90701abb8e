"""Runs seed 000's Python zeroconf query fragment (zeroconf_query_mqtt.py, verbatim) with the two
names it leaves to the reader: `zc`, a Zeroconf on the client host's LAN interface, and `handler`,
which resolves each change and prints it as one JSON line. Runs until stdin closes.

usage: drive_zeroconf_query.py INTERFACE_IP"""
import json
import os
import sys
import threading

from zeroconf import IPVersion, ServiceStateChange, Zeroconf

zc = Zeroconf(interfaces=[sys.argv[1]], ip_version=IPVersion.V4Only)
output = threading.Lock()


def emit(entry):
    with output:
        sys.stdout.write(json.dumps(entry) + "\n")
        sys.stdout.flush()


def handler(zeroconf, service_type, name, state_change):
    entry = {"event": state_change.name, "type": service_type, "name": name}
    if state_change is not ServiceStateChange.Removed:
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is not None:
            entry.update(
                server=info.server,
                port=info.port,
                addresses=info.parsed_addresses(),
                properties={k.decode(): (None if v is None else v.decode()) for k, v in info.properties.items()},
            )
    emit(entry)


fragment = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zeroconf_query_mqtt.py")
namespace = {"zc": zc, "handler": handler}
with open(fragment) as source:
    exec(compile(source.read(), fragment, "exec"), namespace)
emit({"event": "ready", "browser": type(namespace["browser"]).__name__})
try:
    sys.stdin.read()
finally:
    zc.close()
