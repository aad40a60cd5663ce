// Encrypted cookie sessions: round trip, rotation, tampering, expiry, coexistence with app cookies.
import { App, Blueprint, endpoint, responses, type Request } from '../../src';

class Counter extends Blueprint {
  @endpoint('/count')
  count(request: Request) {
    const n = (request.session.get<number>('n') ?? 0) + 1;
    request.session.set('n', n);
    return new responses.TextResponse(String(n)).setCookie('theme', 'dark');
  }
  @endpoint('/peek')
  peek(request: Request) {
    return { n: request.session.get('n') ?? null, size: request.session.size };
  }
  @endpoint('/logout')
  logout(request: Request) {
    request.session.clear();
    return 'bye';
  }
}

function sessionCookie(setCookie: string | string[] | undefined): string {
  const cookie = [setCookie ?? []].flat().find((c) => c.startsWith('pyre_session='));
  if (cookie === undefined) throw new Error('no session cookie');
  return cookie.split(';')[0];
}

describe('sessions', () => {
  const app = new App({ sessionKeys: ['short'] }).addBlueprint(new Counter());

  test('round trip; the app cookie and the session cookie both go out', async () => {
    const first = await app.inject('/count');
    expect(first.body).toBe('1');
    const setCookies = first.headers['set-cookie'] as string[];
    expect(setCookies).toHaveLength(2);
    expect(setCookies[0]).toBe('theme=dark');
    expect(setCookies[1]).toMatch(/^pyre_session=[\w-]+; Max-Age=1209600; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = sessionCookie(setCookies);
    const second = await app.inject({ url: '/count', headers: { cookie } });
    expect(second.body).toBe('2');
    // Reading without changing sends no new cookie.
    const peek = await app.inject({ url: '/peek', headers: { cookie: sessionCookie(second.headers['set-cookie']) } });
    expect(peek.json()).toEqual({ n: 2, size: 1 });
    expect(peek.headers['set-cookie']).toBeUndefined();
    // The value is encrypted, not merely signed.
    expect(Buffer.from(cookie.split('=')[1], 'base64url').toString('latin1')).not.toContain('"n"');
  });

  test('keys rotate: the new key seals, old keys still open', async () => {
    const old = sessionCookie((await app.inject('/count')).headers['set-cookie']);
    const rotated = new App({ sessionKeys: ['a much longer brand new secret from the environment', 'short'] }).addBlueprint(new Counter());
    const res = await rotated.inject({ url: '/peek', headers: { cookie: old } });
    expect(res.json()).toEqual({ n: 1, size: 1 });
    // Opened with an old key, the session is resealed with the new one.
    const resealed = sessionCookie(res.headers['set-cookie']);
    const newOnly = new App({ sessionKeys: ['a much longer brand new secret from the environment'] }).addBlueprint(new Counter());
    expect((await newOnly.inject({ url: '/peek', headers: { cookie: resealed } })).json()).toEqual({ n: 1, size: 1 });
    expect((await newOnly.inject({ url: '/peek', headers: { cookie: old } })).json()).toEqual({ n: null, size: 0 });
  });

  test('tampered, garbage or expired cookies are an empty session, not an error', async () => {
    const cookie = sessionCookie((await app.inject('/count')).headers['set-cookie']);
    const value = cookie.split('=')[1];
    // Change one character that carries only data bits (the last one may carry padding bits).
    const at = value.length - 2;
    const flipped = `pyre_session=${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
    for (const bad of [flipped, 'pyre_session=garbage', 'pyre_session=', 'pyre_session=%%%']) {
      const res = await app.inject({ url: '/peek', headers: { cookie: bad } });
      expect([res.statusCode, res.json()]).toEqual([200, { n: null, size: 0 }]);
    }
    const shortLived = new App({ sessionKeys: ['short'], session: { maxAge: -1 } }).addBlueprint(new Counter());
    const expired = sessionCookie((await shortLived.inject('/count')).headers['set-cookie']);
    expect((await app.inject({ url: '/peek', headers: { cookie: expired } })).json()).toEqual({ n: null, size: 0 });
  });

  test('clearing the session deletes the cookie', async () => {
    const cookie = sessionCookie((await app.inject('/count')).headers['set-cookie']);
    const res = await app.inject({ url: '/logout', headers: { cookie } });
    expect(res.headers['set-cookie']).toBe('pyre_session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax');
  });

  test('sessionKeys must be non-empty strings', () => {
    expect(() => new App({ sessionKeys: [] })).toThrow(/sessionKeys/);
    expect(() => new App({ sessionKeys: [''] })).toThrow(/sessionKeys/);
  });
});
