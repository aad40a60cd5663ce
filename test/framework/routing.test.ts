// Typed parameters, user converters, conflicts, prefixes and live blueprint changes.
import { App, Blueprint, endpoint, type Request } from '../../src';

class Typed extends Blueprint {
  @endpoint('/n/{id:int}')
  int(_request: Request, id: number) {
    return { kind: 'int', id };
  }
  @endpoint('/n/{x:float}')
  float(_request: Request, x: number) {
    return { kind: 'float', x };
  }
  @endpoint('/n/{key:uuid}')
  uuid(_request: Request, key: string) {
    return { kind: 'uuid', key };
  }
  @endpoint('/n/{name}')
  string(_request: Request, name: string) {
    return { kind: 'string', name };
  }
  @endpoint('/files/{rest:path}')
  path(request: Request, rest: string) {
    return { rest, params: request.params };
  }
  @endpoint('/two/{a:int}/{b}', { methods: ['get', 'PUT'] })
  two(_request: Request, a: number, b: string) {
    return [a, b];
  }
}

describe('routing', () => {
  const app = new App().addBlueprint(new Typed());
  const get = async (url: string) => (await app.inject({ method: 'GET', url })).json();

  test('parameters arrive converted, in path order, with priority typed > string', async () => {
    expect(await get('/n/42')).toEqual({ kind: 'int', id: 42 });
    expect(await get('/n/-1.5')).toEqual({ kind: 'float', x: -1.5 });
    expect(await get('/n/123e4567-e89b-12d3-a456-426614174000')).toEqual({ kind: 'uuid', key: '123e4567-e89b-12d3-a456-426614174000' });
    expect(await get('/n/bob')).toEqual({ kind: 'string', name: 'bob' });
    expect(await get('/files/a/b%2Fc/d.txt')).toEqual({ rest: 'a/b/c/d.txt', params: { rest: 'a/b/c/d.txt' } });
    expect(await get('/two/7/x?q=1')).toEqual([7, 'x']);
    expect((await app.inject({ method: 'PUT', url: '/two/7/x' })).json()).toEqual([7, 'x']);
  });

  test('a value that does not convert is a 404, never NaN', async () => {
    expect((await app.inject({ method: 'GET', url: '/two/abc/x' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/two/99999999999999999999/x' })).statusCode).toBe(404);
  });

  test('user converters: regex in the router, convert() in JS; a throwing convert is a 404', async () => {
    const custom = new App();
    custom.addConverter('color', {
      pattern: '[0-9a-f]{6}',
      convert: (hex) => {
        if (hex === '000000') throw new Error('no black');
        return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
      },
    });
    custom.addConverter('slug', { pattern: '[a-z]+(-[a-z]+)*' });
    class Colors extends Blueprint {
      @endpoint('/c/{rgb:color}/{s:slug}')
      show(_request: Request, rgb: number[], s: string) {
        return { rgb, s };
      }
    }
    custom.addBlueprint(new Colors());
    expect((await custom.inject('/c/ff8000/my-post')).json()).toEqual({ rgb: [255, 128, 0], s: 'my-post' });
    expect((await custom.inject('/c/ff800/my-post')).statusCode).toBe(404);
    expect((await custom.inject('/c/000000/x')).statusCode).toBe(404);
    expect((await custom.inject('/c/ffffff/Bad')).statusCode).toBe(404);
    expect(() => custom.addConverter('int', { pattern: 'x' })).toThrow(/already defined/);
    expect(() => custom.addConverter('bad', { pattern: '(' })).toThrow(/invalid pattern/);
  });

  test('conflicts are reported when added, naming both routes, and nothing is half-added', async () => {
    class Other extends Blueprint {
      @endpoint('/fresh')
      fresh() {
        return 'fresh';
      }
      @endpoint('/n/{number:int}')
      clash() {
        return 'never';
      }
    }
    expect(() => app.addBlueprint(new Other())).toThrow(
      'pyre: route GET /n/{number:int} (Other.clash) conflicts with GET /n/{id:int} (Typed.int)',
    );
    expect((await app.inject('/fresh')).statusCode).toBe(404);
    expect(() => new App().addBlueprint(new Other(), { prefix: '/api' }).addBlueprint(new Other(), { prefix: '/api' })).toThrow(/conflicts/);
  });

  test('invalid patterns name the endpoint', () => {
    class Broken extends Blueprint {
      @endpoint('/x/{a:nope}')
      broken() {
        return '';
      }
    }
    expect(() => new App().addBlueprint(new Broken())).toThrow(/Broken\.broken.*unknown converter `nope`/);
  });

  test('blueprints can be added under a prefix and removed while serving', async () => {
    class Live extends Blueprint {
      @endpoint('/ping')
      ping() {
        return 'pong';
      }
    }
    const live = new Live();
    app.addBlueprint(live, { prefix: '/v1' });
    expect((await app.inject('/v1/ping')).body).toBe('pong');
    expect(app.removeBlueprint(live)).toBe(true);
    expect(app.removeBlueprint(live)).toBe(false);
    expect((await app.inject('/v1/ping')).statusCode).toBe(404);
    app.addBlueprint(live);
    expect((await app.inject('/ping')).body).toBe('pong');
  });

  test('a request in flight finishes on the route it matched when its blueprint is removed', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class Slow extends Blueprint {
      @endpoint('/slow')
      async slow() {
        await gate;
        return 'finished';
      }
    }
    const slow = new Slow();
    app.addBlueprint(slow);
    const pending = app.inject('/slow');
    await new Promise((resolve) => setImmediate(resolve));
    app.removeBlueprint(slow);
    release();
    expect((await pending).body).toBe('finished');
    expect((await app.inject('/slow')).statusCode).toBe(404);
  });

  test('the decorator also works as an experimentalDecorators (legacy) decorator', async () => {
    class Legacy extends Blueprint {
      hello(_request: Request, name: string) {
        return `legacy ${name}`;
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Legacy.prototype, 'hello') as PropertyDescriptor;
    endpoint('/legacy/{name}')(Legacy.prototype, 'hello', descriptor);
    const legacyApp = new App().addBlueprint(new Legacy());
    expect((await legacyApp.inject('/legacy/x')).body).toBe('legacy x');
  });

  test('app.load resolves like require and says which path failed', async () => {
    await expect(new App().load('./no-such-module')).rejects.toThrow(/app\.load\("\.\/no-such-module"\): cannot resolve .*test\/framework\/no-such-module/);
    const loaded = new App();
    await loaded.load(require.resolve('../../examples/framework/blueprints/hello'));
    expect((await loaded.inject('/hello/abs')).body).toBe('Hello, abs!');
  });
});
