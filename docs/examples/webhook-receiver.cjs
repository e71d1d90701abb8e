// A receiver for Beacon's signed `generic` webhooks (Node 18+, no dependencies):
//   BEACON_WEBHOOK_SECRET=... PORT=9000 node webhook-receiver.cjs
const { createHmac, timingSafeEqual } = require('node:crypto');
const http = require('node:http');

const SECRET = process.env.BEACON_WEBHOOK_SECRET;
const PORT = Number(process.env.PORT ?? 9000);

// `header` is X-Beacon-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>.
function verify(header, rawBody, toleranceSeconds = 300) {
  const parts = Object.fromEntries(
    String(header ?? '')
      .split(',')
      .map((p) => p.split('=', 2)),
  );
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return false;
  if (Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', SECRET).update(`${t}.`).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(parts.v1, 'hex'));
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      // The MAC is over the bytes as received: join the chunks before decoding anything.
      const rawBody = Buffer.concat(chunks);
      if (!verify(req.headers['x-beacon-signature'], rawBody)) return res.writeHead(401).end();
      const event = JSON.parse(rawBody.toString('utf8'));
      console.log('verified', event.type, req.headers['x-beacon-delivery']);
      res.writeHead(204).end();
    });
  })
  .listen(PORT);
