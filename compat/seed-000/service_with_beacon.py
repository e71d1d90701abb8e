# Seed 000, "Integration Examples › Python Service Integration", exactly as printed. It names a
# BeaconClient it never imports; drive_python_clients.py sets the module's BeaconClient to each of the
# two printed classes in turn, as a reader pasting the snippets into one file would.
# --- verbatim from here on ---
import asyncio
import aiohttp
from contextlib import asynccontextmanager

class ServiceWithBeacon:
    def __init__(self, service_config: dict, beacon_url: str = "http://beacon.local:8097"):
        self.config = service_config
        self.beacon_url = beacon_url
        self.beacon_client = BeaconClient(beacon_url)
        self.service_id = None
    
    @asynccontextmanager
    async def lifespan(self):
        """Service lifespan manager with automatic Beacon integration"""
        try:
            # Register with Beacon
            result = await self.beacon_client.register(self.config)
            self.service_id = result["service_id"]
            
            # Start heartbeat
            await self.beacon_client.start_heartbeat()
            
            print(f"Service registered with Beacon: {self.service_id}")
            yield
            
        finally:
            # Cleanup on shutdown
            if self.service_id:
                await self.beacon_client.deregister(self.service_id)
                print("Service deregistered from Beacon")

# Usage
async def main():
    service_config = {
        "name": "my-microservice",
        "type": "api",
        "host": "192.168.1.50",
        "port": 8000,
        "protocol": "http",
        "tags": ["microservice", "api", "backend"],
        "metadata": {
            "version": "2.1.0",
            "environment": "production"
        },
        "ttl": 300,
        "health_check_url": "http://192.168.1.50:8000/health"
    }
    
    service = ServiceWithBeacon(service_config)
    
    async with service.lifespan():
        # Your service logic here
        await asyncio.sleep(3600)  # Run for 1 hour

if __name__ == "__main__":
    asyncio.run(main())
