// An ordinary Express 5 app using the middleware people reach for; the tests run it unmodified
// on node:http and on Pyre.
import * as fs from 'node:fs';
import * as path from 'node:path';
import compression from 'compression';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';

/** Files the static routes serve; written once per test run. */
export function writeStaticFiles(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'Hello from a static file\n');
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>index</title><p>static index</p>\n');
  fs.writeFileSync(path.join(dir, 'big.txt'), 'All work and no play makes Jack a dull boy.\n'.repeat(2000));
}

export function buildExpressApp(staticDir: string): express.Express {
  const app = express();
  // Production mode: the default error page then carries no stack trace (which names server internals).
  app.set('env', 'production');
  const upload = multer({ storage: multer.memoryStorage() });

  app.get('/hello', (_req, res) => {
    res.send('Hello, world!');
  });
  app.get('/json', (req, res) => {
    res.json({ query: req.query, ip: req.ip, protocol: req.protocol, secure: req.secure, host: req.hostname });
  });
  app.post('/json', express.json(), (req, res) => {
    res.status(201).json({ received: req.body as unknown });
  });
  app.post('/form', express.urlencoded({ extended: false }), (req, res) => {
    res.json(req.body as unknown);
  });
  app.post('/raw', express.raw({ type: '*/*' }), (req, res) => {
    res.type('application/octet-stream').send(Buffer.concat([Buffer.from('echo:'), req.body as Buffer]));
  });
  app.get('/cookies', cookieParser('secret'), (req, res) => {
    res.cookie('visited', 'yes', { httpOnly: true, path: '/', maxAge: 60_000, expires: undefined });
    res.cookie('signed', 'value', { signed: true });
    res.json({ cookies: req.cookies as unknown, signed: req.signedCookies as unknown });
  });
  app.post('/upload', upload.fields([{ name: 'avatar' }, { name: 'docs' }]), (req, res) => {
    const files = req.files as Record<string, Express.Multer.File[]>;
    const summary = Object.values(files).flat().map((f) => ({ field: f.fieldname, name: f.originalname, size: f.size, type: f.mimetype, text: f.buffer.toString('utf8') }));
    res.json({ fields: req.body as unknown, files: summary });
  });
  app.get('/compressed', compression({ threshold: 0 }), (_req, res) => {
    res.type('text/plain').send('compress me '.repeat(500));
  });
  app.get('/events', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      sent += 1;
      res.write(`id: ${sent}\ndata: tick ${sent}\n\n`);
      if (sent === 3) {
        clearInterval(timer);
        res.end();
      }
    }, 5);
    req.on('close', () => clearInterval(timer));
  });
  app.get('/file', (_req, res, next) => {
    res.sendFile(path.join(staticDir, 'hello.txt'), (err) => err && next(err));
  });
  app.get('/download', (_req, res) => {
    res.download(path.join(staticDir, 'hello.txt'), 'greeting.txt');
  });
  app.get('/redirect', (_req, res) => {
    res.redirect('/hello');
  });
  app.get('/redirect-permanent', (_req, res) => {
    res.redirect(301, 'https://example.com/elsewhere');
  });
  app.get('/status/:code', (req, res) => {
    res.sendStatus(Number(req.params.code));
  });
  app.get('/headers', (req, res) => {
    res.set('X-Multi', ['a', 'b']);
    res.append('Link', '</a>; rel="preload"');
    // Host carries each server's own port: leave it out so both sides can be compared.
    const { host: _host, ...headers } = req.headers;
    const raw = req.rawHeaders.filter((_v, i, all) => all[i - (i % 2)].toLowerCase() !== 'host');
    res.json({ headers, raw, distinct: req.headersDistinct['x-dup'], version: req.httpVersion });
  });
  app.get('/stream', (_req, res) => {
    res.type('text/plain');
    fs.createReadStream(path.join(staticDir, 'big.txt')).pipe(res);
  });
  app.get('/throw', () => {
    throw new Error('thrown on purpose');
  });
  app.get('/async-throw', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw Object.assign(new Error('rejected on purpose'), { status: 503 });
  });
  app.get('/custom-error', (_req, _res, next) => {
    next(Object.assign(new Error('teapot'), { status: 418 }));
  });
  app.use(express.static(staticDir));
  app.use((err: Error & { status?: number }, req: Request, res: Response, next: NextFunction) => {
    if (req.path !== '/custom-error') return next(err);
    res.status(err.status ?? 500).json({ error: err.message });
  });
  return app;
}
