// Replays seed 000's ESP32 sketch (esp32_beacon_client.ino) on the wire: the requests
// Arduino-ESP32's HTTPClient builds for its http.POST(json) and http.PUT(""), byte for byte, each
// on a fresh TCP connection (the sketch calls http.end() after every request). The JSON is the
// sketch's own raw string literal, read out of the .ino, with WiFi.localIP() filled in.
//
// The sketch registers with "ttl": 300 and, as printed, never heartbeats (it never parses
// service_id). To show two TTLs of heartbeats in test time, the second registration is the same
// bytes except "ttl": 10, and the heartbeats are the ones the sketch's sendHeartbeat() would send
// had it kept the service_id.
//
// usage: node esp32-replay.mjs HOST PORT LOCAL_IP SECONDS   (one JSON line per request on stdout)
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [host, portText, localIp, secondsText] = process.argv.slice(2);
const port = Number(portText);
const emit = (event, fields) => process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);

/** The sketch's `String json = R"(...)" + WiFi.localIP().toString() + R"(...)";`, evaluated. */
export function sketchJson(sketch, ip) {
  const statement = /String json = ([\s\S]*?\)");/.exec(sketch)?.[1];
  if (!statement) throw new Error('no `String json = ...;` in the sketch');
  const parts = [...statement.matchAll(/R"\(([\s\S]*?)\)"/g)].map((match) => match[1]);
  const between = statement.replace(/R"\(([\s\S]*?)\)"/g, '#').replace(/\s+/g, '');
  if (parts.length !== 2 || between !== '#+WiFi.localIP().toString()+#') throw new Error(`unexpected json expression: ${statement}`);
  return parts[0] + ip + parts[1];
}

/** HTTPClient::sendHeader's bytes, then the addHeader()s in order, then Content-Length when given. */
function request(method, uri, { contentType, contentLength, body = '' }) {
  let head = `${method} ${uri} HTTP/1.1\r\nHost: ${host}${port !== 80 && port !== 443 ? `:${port}` : ''}\r\n`;
  head += 'User-Agent: ESP32HTTPClient\r\nConnection: keep-alive\r\n';
  head += 'Accept-Encoding: identity;q=1,chunked;q=0.1,*;q=0\r\n';
  if (contentType) head += `Content-Type: ${contentType}\r\n`;
  if (contentLength !== undefined) head += `Content-Length: ${contentLength}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`), Buffer.from(body)]);
}

/** Sends one request on a new connection and reads one response (Content-Length or chunked). */
function exchange(bytes) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no full response within 10 s: ${data}`))), 10_000);
    const done = (response) => (clearTimeout(timer), socket.end(), resolve(response));
    socket.on('connect', () => socket.write(bytes));
    socket.on('error', (error) => (clearTimeout(timer), reject(error)));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const status = Number(statusLine.split(' ')[1]);
      let rest = data.subarray(end + 4);
      if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (rest.length >= length) done({ status, headers, body: rest.subarray(0, length).toString('utf8') });
      } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        let body = '';
        for (;;) {
          const line = rest.indexOf('\r\n');
          if (line < 0) return;
          const size = parseInt(rest.subarray(0, line).toString(), 16);
          if (rest.length < line + 2 + size + 2) return;
          if (size === 0) return done({ status, headers, body });
          body += rest.subarray(line + 2, line + 2 + size).toString('utf8');
          rest = rest.subarray(line + 2 + size + 2);
        }
      } else if (status === 204 || status === 304) {
        done({ status, headers, body: '' });
      }
    });
  });
}

async function main() {
  const sketch = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'esp32_beacon_client.ino'), 'utf8');
  const json = sketchJson(sketch, localIp);
  const register = async (event, body) => {
    const response = await exchange(request('POST', '/api/v1/services/register', { contentType: 'application/json', contentLength: Buffer.byteLength(body), body }));
    emit(event, { request: body, ...response });
    return JSON.parse(response.body);
  };
  await register('register', json);
  if (!json.includes('"ttl": 300')) throw new Error('the sketch\'s JSON no longer says "ttl": 300');
  const { service_id: serviceId } = await register('register-ttl-10', json.replace('"ttl": 300', '"ttl": 10'));
  const uri = `/api/v1/services/${serviceId}/heartbeat`;
  const deadline = Date.now() + Number(secondsText) * 1000;
  for (let index = 0; Date.now() < deadline; index += 1) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Cores differ: some send "Content-Length: 0" for PUT(""), others no Content-Length at all.
    const variant = index % 2 === 0 ? 'content-length-0' : 'no-content-length';
    const response = await exchange(request('PUT', uri, { contentLength: variant === 'content-length-0' ? 0 : undefined }));
    emit('heartbeat', { variant, ...response });
  }
  emit('done', {});
}

main().catch((error) => {
  emit('error', { error: String(error?.stack ?? error) });
  process.exit(1);
});
