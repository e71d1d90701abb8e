"""Drives seed 004's three printed functions (discovery_client.py, verbatim but for the base URL and
the secret) one command at a time: the test writes register, heartbeat or discover on stdin and reads
one JSON line back with what the function returned (or raised)."""
import asyncio
import json
import sys

import discovery_client

COMMANDS = {
    "register": discovery_client.register_service,
    "heartbeat": discovery_client.send_heartbeat,
    "discover": discovery_client.discover_services,
}


def emit(entry):
    sys.stdout.write(json.dumps(entry) + "\n")
    sys.stdout.flush()


async def main():
    emit({"event": "ready"})
    for line in sys.stdin:
        command = line.strip()
        if not command:
            continue
        if command == "quit":
            break
        try:
            emit({"event": command, "result": await COMMANDS[command]()})
        except Exception as error:  # e.g. response.json() on a body that is not JSON
            emit({"event": command, "error": repr(error)})


if __name__ == "__main__":
    asyncio.run(main())
