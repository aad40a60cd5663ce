// uWebSockets.js: GET / and the two framework routes, the last with an integer parameter.
const uWS = require('@trufflesuite/uws-js-unofficial');

// The package falls back to a slow pure-node imitation when its binary does not load; that
// would not be uWS at all, so refuse to run (the fallback has no SSLApp).
if (typeof uWS.SSLApp !== 'function') {
  console.error('uws: the native uWebSockets.js binary did not load on this Node');
  process.exit(1);
}

uWS.App()
  .get('/', (res) => {
    res.writeHeader('Content-Type', 'text/plain').end('Hello, World!');
  })
  .get('/hello/:name', (res, req) => {
    res.writeHeader('Content-Type', 'text/plain').end(`Hello, ${req.getParameter(0)}!`);
  })
  .get('/users/:id', (res, req) => {
    const id = Number(req.getParameter(0));
    if (!Number.isInteger(id)) {
      res.writeStatus('404 Not Found').end();
      return;
    }
    res.writeHeader('Content-Type', 'application/json').end(JSON.stringify({ id, name: `User ${id}` }));
  })
  .listen('127.0.0.1', Number(process.env.PORT), (listenSocket) => {
    if (!listenSocket) {
      console.error(`uws: could not listen on port ${process.env.PORT}`);
      process.exit(1);
    }
  });
