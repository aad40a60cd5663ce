// node's http API on Pyre: the handler of node-http.js, served by Pyre's createServer.
const { createServer } = require('../lib/pyre');
const handle = require('./node-http');

createServer(handle).listen(Number(process.env.PORT), '127.0.0.1');
