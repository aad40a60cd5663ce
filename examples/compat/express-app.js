// An ordinary Express 5 app, not changed in any way for Pyre. Run it on Pyre with:
//   node -r pyre-http/register examples/compat/express-app.js
// and on node's own server with:
//   node examples/compat/express-app.js
const express = require('express');

const app = express();
app.use(express.json());

app.get('/', (req, res) => {
  res.send('Hello from Express');
});

app.post('/echo', (req, res) => {
  res.json({ youSent: req.body });
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => {
  console.log(`Express listening on http://127.0.0.1:${port}`);
});
