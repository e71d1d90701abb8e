# Seed 000, "Client Libraries › Python Client" (aiohttp), exactly as printed. Its default base URL
# http://beacon.local:8097 is unchanged: the test maps beacon.local to the stack host in the client
# namespace's /etc/hosts. drive_python_clients.py imports it.
# --- verbatim from here on ---
import asyncio
import aiohttp
from typing import Optional

class BeaconClient:
    def __init__(self, beacon_url: str = "http://beacon.local:8097"):
        self.beacon_url = beacon_url
        self.service_id: Optional[str] = None
        
    async def register(self, **service_config):
        """Register service with optional health checks"""
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{self.beacon_url}/api/v1/services/register",
                json=service_config
            ) as response:
                result = await response.json()
                self.service_id = result["service_id"]
                return result
    
    async def heartbeat(self):
        """Send manual heartbeat"""
        if not self.service_id:
            raise ValueError("Service not registered")
            
        async with aiohttp.ClientSession() as session:
            async with session.put(
                f"{self.beacon_url}/api/v1/services/{self.service_id}/heartbeat"
            ) as response:
                return await response.json()
    
    async def deregister(self):
        """Cleanup on shutdown"""
        if self.service_id:
            async with aiohttp.ClientSession() as session:
                await session.delete(
                    f"{self.beacon_url}/api/v1/services/{self.service_id}"
                )

# Usage example
async def main():
    client = BeaconClient()
    
    # Register with health checks (recommended)
    await client.register(
        name="my-python-service",
        type="api",
        host="192.168.1.100",
        port=8080,
        health_check_url="http://192.168.1.100:8080/health",
        health_check_interval=30,
        tags=["python", "fastapi", "production"]
    )
    
    print(f"Registered as: {client.service_id}")
    
    # Your application logic here
    await asyncio.sleep(3600)
    
    # Cleanup
    await client.deregister()

if __name__ == "__main__":
    asyncio.run(main())
