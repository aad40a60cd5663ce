// Pyre's native interface (the fast path): one call answers a whole request; bodies through the
// exchange's body() / ondata, large answers with respond() or writeHead/write/end.
const fs = require('node:fs');
const { serve, HeaderBlock } = require('../lib/pyre');
const fixtures = require('../lib/fixtures');

const text = new HeaderBlock({ 'content-type': 'text/plain' });
const json = new HeaderBlock({ 'content-type': 'application/json' });
const octets = new HeaderBlock({ 'content-type': 'application/octet-stream' });
const BUFFERS = { '/buffer/64k': fixtures.body('64k'), '/buffer/1m': fixtures.body('1m') };
const FILES = { '/stream/64k': fixtures.file('64k'), '/stream/1m': fixtures.file('1m') };

/** A file written with backpressure: wait for ondrain whenever write() says so. */
function stream(exchange, file) {
  exchange.writeHead(200, octets, fs.statSync(file).size);
  const source = fs.createReadStream(file);
  exchange.ondrain = () => source.resume();
  exchange.onabort = () => source.destroy();
  source.on('data', (chunk) => {
    if (!exchange.write(chunk)) source.pause();
  });
  source.on('end', () => exchange.end());
}

serve((exchange) => {
  const { url } = exchange;
  if (url === '/') return exchange.respond(200, 'Hello, World!', text);
  if (exchange.method === 'POST' && url === '/echo') {
    return exchange.body().then((body) => {
      exchange.respond(200, JSON.stringify({ ...JSON.parse(body.toString('utf8')), echoed: true }), json);
    });
  }
  if (exchange.method === 'POST' && url === '/upload') {
    let bytes = 0;
    exchange.ondata = (chunk) => { bytes += chunk.length; };
    exchange.onend = () => exchange.respond(200, JSON.stringify({ bytes }), json);
    return undefined;
  }
  const buffer = BUFFERS[url];
  if (buffer !== undefined) return exchange.respond(200, buffer, octets);
  const file = FILES[url];
  if (file !== undefined) return stream(exchange, file);
  return exchange.respond(404);
}).listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
