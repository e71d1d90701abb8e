# Seed 004 (Mafia platform service discovery), "Usage": the three printed functions, each exactly as
# printed except two things the snippets leave to the reader:
# - the base URL: http://service-discovery:3004 is http://service-discovery:8097 (Beacon's gateway port;
#   the test maps service-discovery to the stack host in the client namespace's /etc/hosts);
# - SERVICE_DISCOVERY_SECRET, which the snippets use but never define: read from the environment
#   (the two lines marked "added" below).
# drive_discovery_client.py imports this module.
import os  # added
SERVICE_DISCOVERY_SECRET = os.environ["SERVICE_DISCOVERY_SECRET"]  # added

# --- "Registering a Service", verbatim from here on ---
import httpx

async def register_service():
    async with httpx.AsyncClient() as client:
        response = await client.post(
            "http://service-discovery:8097/v1/discovery/register",
            json={
                "service_name": "my-service",
                "instance_id": "instance-1",
                "host": "localhost",
                "port": 8080,
                "health_endpoint": "/health",
                "metadata": {"version": "1.0.0"}
            },
            headers={"Authorization": f"Bearer {SERVICE_DISCOVERY_SECRET}"}
        )
        return response.json()


# --- "Sending Heartbeats", verbatim from here on ---
async def send_heartbeat():
    async with httpx.AsyncClient() as client:
        response = await client.post(
            "http://service-discovery:8097/v1/discovery/heartbeat",
            json={
                "service_name": "my-service",
                "instance_id": "instance-1"
            },
            headers={"Authorization": f"Bearer {SERVICE_DISCOVERY_SECRET}"}
        )
        return response.json()


# --- "Discovering Services", verbatim from here on ---
async def discover_services():
    async with httpx.AsyncClient() as client:
        response = await client.get(
            "http://service-discovery:8097/v1/discovery/services/my-service/healthy"
        )
        return response.json()
