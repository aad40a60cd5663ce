// A realistic Express app: 50 resource routes, express.json(), two middleware that set headers
// (a request id and security headers), JSON answers. On node:http; express-app-pyre.js runs it on
// Pyre through pyre-http/register.
const express = require('express');

// 49 GET routes and the POST: 50 in all.
const ROUTES = 49;

function build() {
  const app = express();
  app.disable('x-powered-by');
  let requests = 0;
  app.use((req, res, next) => {
    requests += 1;
    res.setHeader('X-Request-Id', `req-${requests}`);
    next();
  });
  app.use((req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' });
    next();
  });
  app.use(express.json());
  for (let resource = 1; resource <= ROUTES; resource += 1) {
    app.get(`/api/resource${resource}/:id`, (req, res) => {
      const id = Number(req.params.id);
      res.json({ resource, id, name: `Resource ${resource} item ${id}` });
    });
  }
  app.post('/api/orders', (req, res) => {
    res.status(200).json({ ...req.body, echoed: true });
  });
  return app;
}

if (require.main === module) {
  build().listen(Number(process.env.PORT), '127.0.0.1');
}

module.exports = build;
