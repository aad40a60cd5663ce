// Sign-in state kept in the encrypted session cookie.
import { App, Blueprint, endpoint, Request, responses } from 'pyre-http';

export class Account extends Blueprint {
  @endpoint('/login/{name:string}', { methods: ['POST'] })
  login(request: Request, name: string) {
    request.session.set('user', name);
    return new responses.RedirectResponse('/me', { status: 303 });
  }

  @endpoint('/me')
  me(request: Request) {
    return { user: request.session.get('user') ?? null };
  }

  @endpoint('/logout', { methods: ['POST'] })
  logout(request: Request) {
    request.session.clear();
    return new responses.RedirectResponse('/', { status: 303 });
  }
}

export function setup(app: App) {
  app.addBlueprint(new Account());
}
