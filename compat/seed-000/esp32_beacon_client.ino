// Seed 000, "Integration Examples › Arduino/ESP32 mDNS Discovery", exactly as printed. Not compiled here
// (no ESP32 toolchain): esp32-replay.mjs reads the JSON raw string literal out of this file and replays
// the requests Arduino-ESP32's HTTPClient sends for it, byte for byte.
// --- verbatim from here on ---
#include <WiFi.h>
#include <ESPmDNS.h>
#include <HTTPClient.h>

class BeaconClient {
private:
    String beacon_host = "";
    int beacon_port = 8080;
    String service_id = "";
    unsigned long last_heartbeat = 0;
    const unsigned long heartbeat_interval = 60000; // 60 seconds

public:
    void begin() {
        // Discover Beacon via mDNS
        discoverBeacon();
        
        // Register this device
        registerService();
    }
    
    void loop() {
        // Send heartbeat if needed
        if (millis() - last_heartbeat > heartbeat_interval) {
            sendHeartbeat();
            last_heartbeat = millis();
        }
    }
    
private:
    void discoverBeacon() {
        Serial.println("Discovering Beacon via mDNS...");
        
        int n = MDNS.queryService("beacon", "tcp");
        if (n > 0) {
            beacon_host = MDNS.hostname(0);
            beacon_port = MDNS.port(0);
            Serial.printf("Found Beacon: %s:%d\n", beacon_host.c_str(), beacon_port);
        }
    }
    
    void registerService() {
        if (beacon_host.length() == 0) return;
        
        HTTPClient http;
        http.begin("http://" + beacon_host + ":" + beacon_port + "/api/v1/services/register");
        http.addHeader("Content-Type", "application/json");
        
        String json = R"({
            "name": "esp32-sensor",
            "type": "iot",
            "host": ")" + WiFi.localIP().toString() + R"(",
            "port": 80,
            "protocol": "http",
            "tags": ["sensor", "temperature", "humidity"],
            "metadata": {
                "device": "ESP32",
                "firmware": "1.0.0"
            },
            "ttl": 300
        })";
        
        int httpCode = http.POST(json);
        if (httpCode == 201) {
            String response = http.getString();
            // Parse service_id from response
            Serial.println("Service registered successfully");
        }
        
        http.end();
    }
    
    void sendHeartbeat() {
        if (service_id.length() == 0 || beacon_host.length() == 0) return;
        
        HTTPClient http;
        http.begin("http://" + beacon_host + ":" + beacon_port + "/api/v1/services/" + service_id + "/heartbeat");
        
        int httpCode = http.PUT("");
        if (httpCode == 200) {
            Serial.println("Heartbeat sent successfully");
        }
        
        http.end();
    }
};
