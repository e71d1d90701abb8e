# Seed 000, "TTL & Heartbeat System › Heartbeat Implementation › Client-side Example" (aiohttp), exactly
# as printed (its odd indentation of `json=service_data` included: Python accepts it inside the call's
# parentheses). drive_python_clients.py imports it.
# --- verbatim from here on ---
import asyncio
import aiohttp

class BeaconClient:
    def __init__(self, beacon_url: str):
        self.beacon_url = beacon_url
        self.service_id = None
        self.heartbeat_task = None
    
    async def register(self, service_data: dict):
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{self.beacon_url}/api/v1/services/register",
        json=service_data
            ) as response:
                result = await response.json()
                self.service_id = result["service_id"]
                return result
    
    async def start_heartbeat(self, interval: int = 60):
        """Start automatic heartbeat every interval seconds"""
        self.heartbeat_task = asyncio.create_task(
            self._heartbeat_loop(interval)
        )
    
    async def _heartbeat_loop(self, interval: int):
        while True:
            try:
                await asyncio.sleep(interval)
                await self.send_heartbeat()
            except Exception as e:
                print(f"Heartbeat failed: {e}")
    
    async def send_heartbeat(self):
        if not self.service_id:
            return
        
        async with aiohttp.ClientSession() as session:
            async with session.put(
                f"{self.beacon_url}/api/v1/services/{self.service_id}/heartbeat"
            ) as response:
                return await response.json()
