"""Drives seed 000's two printed Python BeaconClient classes and ServiceWithBeacon, imported from
their verbatim copies beside this file. Runs on the client host of the LAN; prints one JSON line
per step, which the test reads while it watches the service from outside.

usage: drive_python_clients.py client|heartbeat-class|service-with-beacon BASE_URL SECONDS
"""
import asyncio
import json
import sys
import time
import traceback

import aiohttp

import beacon_client
import beacon_heartbeat_client
import service_with_beacon


def emit(event, **fields):
    sys.stdout.write(json.dumps({"event": event, "at": time.time() * 1000, **fields}) + "\n")  # at: epoch ms
    sys.stdout.flush()


async def discover(base, name):
    """GET /api/v1/services/discover, the HTTP discovery a client without mDNS uses."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/api/v1/services/discover", params={"name": name}) as response:
            return response.status, await response.json()


async def python_client(base, seconds):
    """"Client Libraries › Python Client": its usage example's fields (ttl 10 added so two TTLs
    pass in test time), a heartbeat every 3 s with the class's heartbeat(), discover, deregister."""
    client = beacon_client.BeaconClient(base)
    result = await client.register(
        name="my-python-service",
        type="api",
        host="192.168.1.100",
        port=8080,
        health_check_url="http://192.168.1.100:8080/health",
        health_check_interval=30,
        tags=["python", "fastapi", "production"],
        ttl=10,
    )
    emit("registered", service_id=client.service_id, response=result)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(3)
        try:
            emit("heartbeat", response=await client.heartbeat())
        except Exception as error:  # the class raises what aiohttp raises; report it, keep going
            emit("heartbeat_error", error=repr(error))
    status, body = await discover(base, "my-python-service")
    emit("discovered", status=status, body=body)
    emit("deregistering")
    await client.deregister()
    emit("deregistered")


async def heartbeat_class(base, seconds):
    """"TTL & Heartbeat System › Heartbeat Implementation": register, start_heartbeat(3), discover.
    The class has no deregister: its heartbeat task is cancelled and the service left to expire."""
    client = beacon_heartbeat_client.BeaconClient(base)
    result = await client.register({
        "name": "compat-py-heartbeat",
        "type": "api",
        "host": "192.168.1.50",
        "port": 8000,
        "protocol": "http",
        "tags": ["microservice", "api", "backend"],
        "ttl": 10,
    })
    emit("registered", service_id=client.service_id, response=result)
    await client.start_heartbeat(3)
    await asyncio.sleep(seconds)
    status, body = await discover(base, "compat-py-heartbeat")
    emit("discovered", status=status, body=body)
    emit("stopping")
    client.heartbeat_task.cancel()
    emit("stopped", has_deregister=hasattr(client, "deregister"))


async def service_with_beacon_run(base):
    """"Python Service Integration" as printed (its config, start_heartbeat() with the default 60 s),
    with its undefined BeaconClient bound to each printed class in turn."""
    config = {
        "name": "my-microservice",
        "type": "api",
        "host": "192.168.1.50",
        "port": 8000,
        "protocol": "http",
        "tags": ["microservice", "api", "backend"],
        "metadata": {"version": "2.1.0", "environment": "production"},
        "ttl": 300,
        "health_check_url": "http://192.168.1.50:8000/health",
    }
    for label, cls in (("python-client", beacon_client.BeaconClient), ("heartbeat-class", beacon_heartbeat_client.BeaconClient)):
        service_with_beacon.BeaconClient = cls
        service = service_with_beacon.ServiceWithBeacon(config, base)
        body_ran = False
        try:
            async with service.lifespan():
                body_ran = True
                await asyncio.sleep(1)
            emit("lifespan", variant=label, ok=True, service_id=service.service_id, body_ran=body_ran)
        except Exception as error:
            emit("lifespan", variant=label, ok=False, service_id=service.service_id, body_ran=body_ran,
                 error_type=type(error).__name__, error=str(error))
        task = getattr(service.beacon_client, "heartbeat_task", None)
        if task is not None:
            task.cancel()


async def main():
    flow, base, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    try:
        if flow == "client":
            await python_client(base, seconds)
        elif flow == "heartbeat-class":
            await heartbeat_class(base, seconds)
        elif flow == "service-with-beacon":
            await service_with_beacon_run(base)
        else:
            raise SystemExit(f"unknown flow {flow}")
    except Exception as error:
        emit("error", error=repr(error), trace=traceback.format_exc())
        raise
    emit("done")


if __name__ == "__main__":
    asyncio.run(main())
