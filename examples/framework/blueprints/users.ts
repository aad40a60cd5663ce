// A JSON API with typed parameters, a per-blueprint middleware and error handler.
import { App, Blueprint, endpoint, HttpError, Request, responses } from 'pyre-http';

interface User {
  id: number;
  name: string;
}

export class Users extends Blueprint {
  private readonly users = new Map<number, User>([[1, { id: 1, name: 'Ada' }]]);
  private nextId = 2;

  constructor() {
    super();
    // Blueprint middleware: every response of this API is uncacheable.
    this.use(async (_request, next) => {
      const response = await next();
      response.headers.set('cache-control', 'no-store');
      return response;
    });
    this.onError((error) => (error instanceof HttpError && error.status === 404 ? new responses.JSONResponse({ error: error.message }, { status: 404 }) : undefined));
  }

  @endpoint('/users')
  list() {
    return [...this.users.values()];
  }

  @endpoint('/users/{id:int}')
  show(_request: Request, id: number) {
    const user = this.users.get(id);
    if (user === undefined) throw new HttpError(404, `no user ${id}`);
    return user;
  }

  // Endpoint middleware: only signed-in visitors may create users.
  @endpoint('/users', { methods: ['POST'], middleware: [(request) => (request.session.get('user') ? undefined : new responses.JSONResponse({ error: 'sign in first' }, { status: 401 }))] })
  async create(request: Request) {
    const body = await request.json();
    if (typeof body?.name !== 'string') throw new HttpError(400, 'name is required');
    const user = { id: this.nextId++, name: body.name };
    this.users.set(user.id, user);
    return new responses.JSONResponse(user, { status: 201 });
  }
}

export function setup(app: App) {
  app.addBlueprint(new Users(), { prefix: '/api' });
}
