"""Finds Beacon the way seed 000's ESP32 sketch does (MDNS.queryService("beacon", "tcp")): browses
_beacon._tcp.local. with python3-zeroconf on one interface, resolves the first instance and prints
it as one JSON line (name, server, port, addresses, TXT), then exits. Exit 1 if none in time.

usage: browse_beacon.py INTERFACE_IP TIMEOUT_SECONDS"""
import json
import sys
import threading

from zeroconf import IPVersion, ServiceBrowser, Zeroconf

interface, timeout = sys.argv[1], float(sys.argv[2])
zc = Zeroconf(interfaces=[interface], ip_version=IPVersion.V4Only)
found = threading.Event()
result = {}


class Listener:
    def add_service(self, zeroconf, service_type, name):
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is None or found.is_set():
            return
        result.update(
            name=name,
            server=info.server,
            port=info.port,
            addresses=info.parsed_addresses(),
            properties={k.decode(): (None if v is None else v.decode()) for k, v in info.properties.items()},
        )
        found.set()

    def update_service(self, zeroconf, service_type, name):
        pass

    def remove_service(self, zeroconf, service_type, name):
        pass


browser = ServiceBrowser(zc, "_beacon._tcp.local.", Listener())
ok = found.wait(timeout)
zc.close()
if ok:
    print(json.dumps(result), flush=True)
sys.exit(0 if ok else 1)
