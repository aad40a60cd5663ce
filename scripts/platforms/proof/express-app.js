// An ordinary Express app, written for node's http and not for Pyre: `node -r pyre-http/register`
// makes its app.listen() a Pyre server (http-checks.js checks what it answers).
'use strict';
const express = require('express');

const app = express();
app.use(express.json());
app.get('/users/:id', (req, res) => res.json({ id: req.params.id, query: req.query }));
app.post('/users', (req, res) => res.status(201).json({ created: req.body.name }));
app.get('/old', (req, res) => res.redirect(301, '/users/1'));
app.use((req, res) => res.status(404).type('text').send(`no ${req.method} ${req.path}`));
app.listen(Number(process.env.PORT), '127.0.0.1');
