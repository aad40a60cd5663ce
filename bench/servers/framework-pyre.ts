// Pyre's framework on the fast path: the two routes of uws.js and fastify.js, written as the
// seed's Blueprint example is (TypeScript, standard decorators; run.js transpiles it on load).
// Synchronous handlers, as in the anchors, so all three do the same work.
import { App, Blueprint, endpoint, Request } from '../..';

class Bench extends Blueprint {
  @endpoint('/hello/{name:string}', { methods: ['GET'] })
  onGetHello(request: Request, name: string) {
    return `Hello, ${name}!`;
  }

  @endpoint('/users/{id:int}', { methods: ['GET'] })
  onGetUser(request: Request, id: number) {
    return { id, name: `User ${id}` };
  }
}

const app = new App();
app.addBlueprint(new Bench());
app.listen(Number(process.env.PORT), '127.0.0.1');
