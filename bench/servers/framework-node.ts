// Pyre's framework on node:http (app.handler): what the framework costs "on node", for the
// file case's target (framework-app.ts).
import * as http from 'node:http';
import { Bench, build } from './framework-app';

http.createServer(build(new Bench()).handler).listen(Number(process.env.PORT), '127.0.0.1');
