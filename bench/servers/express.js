// Express 5 on node:http: GET / and express.static (after the route, so GET / never meets it).
const express = require('express');
const fixtures = require('../lib/fixtures');

const app = express();
app.get('/', (req, res) => {
  res.type('text/plain').send('Hello, World!');
});
fixtures.file('1m');
app.use('/static', express.static(fixtures.FIXTURE_DIR));

if (require.main === module) {
  app.listen(Number(process.env.PORT), '127.0.0.1');
}

module.exports = app;
