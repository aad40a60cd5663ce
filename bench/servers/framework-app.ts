// Pyre's framework: the routes of uws.js and fastify.js written as the seed's Blueprint example
// is (TypeScript, standard decorators; run.js transpiles it on load). `Bench` has synchronous
// handlers for the routes the anchors answer synchronously; `AsyncBench` is the same two routes
// written `async`, as the seed writes handlers. Served on the fast path (framework-pyre.ts,
// framework-async.ts) and on node:http (framework-node.ts).
import * as path from 'node:path';
import { createReadStream, statSync } from 'node:fs';
import { App, Blueprint, endpoint, Request, responses } from '../lib/pyre';

const fixtures = require('../lib/fixtures');

const BUFFERS: Record<string, Buffer> = { '64k': fixtures.body('64k'), '1m': fixtures.body('1m') };
const FILES: Record<string, string> = { '64k': fixtures.file('64k'), '1m': fixtures.file('1m') };

export class Bench extends Blueprint {
  @endpoint('/', { methods: ['GET'] })
  onGetRoot() {
    return 'Hello, World!';
  }

  @endpoint('/hello/{name:string}', { methods: ['GET'] })
  onGetHello(request: Request, name: string) {
    return `Hello, ${name}!`;
  }

  @endpoint('/users/{id:int}', { methods: ['GET'] })
  onGetUser(request: Request, id: number) {
    return { id, name: `User ${id}` };
  }

  @endpoint('/echo', { methods: ['POST'] })
  async onEcho(request: Request) {
    return { ...(await request.json()), echoed: true };
  }

  @endpoint('/upload', { methods: ['POST'] })
  async onUpload(request: Request) {
    let bytes = 0;
    for await (const chunk of request.chunks()) bytes += chunk.length;
    return { bytes };
  }

  @endpoint('/buffer/{size:string}', { methods: ['GET'] })
  onGetBuffer(request: Request, size: string) {
    return BUFFERS[size];
  }

  @endpoint('/stream/{size:string}', { methods: ['GET'] })
  onGetStream(request: Request, size: string) {
    const file = FILES[size];
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(statSync(file).size) };
    return new responses.StreamResponse(createReadStream(file), { headers });
  }

  @endpoint('/static/{name:string}', { methods: ['GET'] })
  onGetStatic(request: Request, name: string) {
    return new responses.FileResponse(path.join(fixtures.FIXTURE_DIR, name));
  }
}

export class AsyncBench extends Blueprint {
  @endpoint('/hello/{name:string}', { methods: ['GET'] })
  async onGetHello(request: Request, name: string) {
    return `Hello, ${name}!`;
  }

  @endpoint('/users/{id:int}', { methods: ['GET'] })
  async onGetUser(request: Request, id: number) {
    return { id, name: `User ${id}` };
  }
}

export function build(blueprint: Blueprint): App {
  const app = new App();
  app.addBlueprint(blueprint);
  return app;
}
