// A service's health endpoint for seed 004's flow: GET /health answers the JSON held in the file
// named on the command line, re-read on every request, so the test changes the reported load by
// rewriting the file. Listens on 127.0.0.1:8080 of the namespace it runs in (the stack host,
// where seed 004's registration says its service is: "localhost", 8080, "/health").
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file] = process.argv.slice(2);
createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(readFileSync(file, 'utf8'));
  } else {
    response.writeHead(404).end();
  }
}).listen(8080, '127.0.0.1', () => console.log('listening on 127.0.0.1:8080'));
