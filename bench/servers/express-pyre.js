// The unmodified Express app of express.js on Pyre, as `node -r pyre-http/register` runs it:
// register swaps http.createServer, so Express's own app.listen() gets a Pyre server.
require('../lib/pyre').register();
const app = require('./express');

app.listen(Number(process.env.PORT), '127.0.0.1');
