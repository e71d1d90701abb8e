# Seed 000, "mDNS Integration Deep Dive › mDNS Query Examples › Query MQTT Brokers": its Python
# zeroconf lines exactly as printed (the end of the seed's bash block, after its avahi-browse and
# dns-sd lines). A fragment: `zc` and `handler` are left to the reader; drive_zeroconf_query.py
# supplies them and runs this file in that namespace.
# --- verbatim from here on ---
# Using Python zeroconf
import zeroconf
browser = zeroconf.ServiceBrowser(zc, "_mqtt._tcp.local.", handlers=[handler])
