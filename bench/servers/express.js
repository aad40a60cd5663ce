// Express 5 on node:http.
const express = require('express');

const app = express();
app.get('/', (req, res) => {
  res.type('text/plain').send('Hello, World!');
});

if (require.main === module) {
  app.listen(Number(process.env.PORT), '127.0.0.1');
}

module.exports = app;
