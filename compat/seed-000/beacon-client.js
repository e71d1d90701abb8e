// Seed 000, "Client Libraries › JavaScript/Node.js Client" (axios, with its Express usage), exactly as
// printed. The default base URL http://beacon.local:8097 is unchanged: the test maps beacon.local to the
// stack host in the client namespace's /etc/hosts. drive-js-client.cjs loads this file unchanged with
// node:vm (a function wrapper hands back BeaconClient, app and beacon); it is never required directly.
// --- verbatim from here on ---
const axios = require('axios');

class BeaconClient {
  constructor(beaconUrl = 'http://beacon.local:8097') {
    this.beaconUrl = beaconUrl;
    this.serviceId = null;
    this.heartbeatInterval = null;
  }
  
  async register(serviceConfig) {
    try {
      const response = await axios.post(
        `${this.beaconUrl}/api/v1/services/register`,
        serviceConfig
      );
      this.serviceId = response.data.service_id;
      return response.data;
    } catch (error) {
      console.error('Registration failed:', error.message);
      throw error;
    }
  }
  
  async startHeartbeat(interval = 60000) {
    if (!this.serviceId) {
      throw new Error('Service not registered');
    }
    
    this.heartbeatInterval = setInterval(async () => {
      try {
        await axios.put(
          `${this.beaconUrl}/api/v1/services/${this.serviceId}/heartbeat`
        );
        console.log('Heartbeat sent successfully');
      } catch (error) {
        console.error('Heartbeat failed:', error.message);
      }
    }, interval);
  }
  
  async deregister() {
    if (this.heartbeatInterval) {
      clearInterval(this.heartbeatInterval);
    }
    
    if (this.serviceId) {
      try {
        await axios.delete(
          `${this.beaconUrl}/api/v1/services/${this.serviceId}`
        );
        console.log('Service deregistered');
      } catch (error) {
        console.error('Deregistration failed:', error.message);
      }
    }
  }
}

// Usage with Express.js
const express = require('express');
const app = express();
const beacon = new BeaconClient();

// Health endpoint for Beacon monitoring
app.get('/health', (req, res) => {
  res.json({ status: 'healthy', timestamp: new Date().toISOString() });
});

app.listen(8080, async () => {
  console.log('Server running on port 8080');
  
  // Register with health checks
  try {
    await beacon.register({
      name: 'my-node-service',
      type: 'api',
      host: '192.168.1.100',
      port: 8080,
      health_check_url: 'http://192.168.1.100:8080/health',
      health_check_interval: 30,
      tags: ['nodejs', 'express', 'production']
    });
    
    console.log(`Registered as: ${beacon.serviceId}`);
  } catch (error) {
    console.error('Registration failed:', error);
  }
});

// Graceful shutdown
process.on('SIGINT', async () => {
  console.log('Shutting down...');
  await beacon.deregister();
  process.exit(0);
});
