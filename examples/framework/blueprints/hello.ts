// blueprints/hello.ts
import { App, Blueprint, endpoint, Request, responses } from 'pyre-http';

export class Hello extends Blueprint {
  constructor(private app: App) { super(); }

  @endpoint('/hello/{name:string}', { methods: ['GET'] })
  async onGetHello(request: Request, name: string) {
    return `Hello, ${name}!`;
  }

  @endpoint('/hello/{name:string}', { methods: ['POST'] })
  async onPostHello(request: Request, name: string) {
    const body = await request.json();
    return new responses.JSONResponse(
      { message: `Hello, ${name}! You are aged: ${body.age}` }, { status: 200 });
  }
}

export function setup(app: App) {
  app.addBlueprint(new Hello(app));
}
