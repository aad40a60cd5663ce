// Child process of lib/idle.js: opens `count` keep-alive connections to 127.0.0.1:`port`, asks
// each for `path` once and reads the answer, then holds them all open and idle. Prints one JSON
// line when they are all answered ({ open, failed, ms }); afterwards each line on stdin is
// answered with { open } (how many are still open); it exits when stdin closes.
// Usage: node idle-client.js <port> <path> <count>
const net = require('node:net');
const readline = require('node:readline');

const [port, path, count] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
/** Connections being opened at once. */
const BATCH = 256;
const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

let open = 0;
let failed = 0;
const sockets = [];

/** Opens one connection and resolves once its answer has arrived in full (head and Content-Length body). */
function openOne() {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let seen = '';
    let done = false;
    let counted = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      counted = ok;
      if (ok) open += 1;
      else failed += 1;
      resolve();
    };
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(request));
    socket.on('data', (text) => {
      seen += text;
      const headEnd = seen.indexOf('\r\n\r\n');
      const length = /content-length:\s*(\d+)/i.exec(seen);
      if (headEnd !== -1 && length && seen.length >= headEnd + 4 + Number(length[1])) finish(true);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => {
      if (counted) open -= 1;
      counted = false;
      finish(false);
    });
    sockets.push(socket);
  });
}

async function main() {
  const start = Date.now();
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, openOne));
  }
  process.stdout.write(`${JSON.stringify({ open, failed, ms: Date.now() - start })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', () => process.stdout.write(`${JSON.stringify({ open })}\n`));
  lines.on('close', () => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}

main();
