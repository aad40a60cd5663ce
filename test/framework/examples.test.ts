// The realistic example app, end to end through inject().
import { createApp } from '../../examples/framework/app';

describe('examples/framework/app.ts', () => {
  test('blueprints, sessions, middleware at three levels, files and streams work together', async () => {
    const app = await createApp();
    const hello = await app.inject('/hello/you');
    expect(hello.body).toBe('Hello, you!');
    expect(hello.headers['server-timing']).toMatch(/^app;dur=/);

    const user = await app.inject('/api/users/1');
    expect([user.json(), user.headers['cache-control']]).toEqual([{ id: 1, name: 'Ada' }, 'no-store']);
    const missing = await app.inject('/api/users/99');
    expect([missing.statusCode, missing.json()]).toEqual([404, { error: 'no user 99' }]);

    expect((await app.inject({ method: 'POST', url: '/api/users', payload: { name: 'Bob' } })).statusCode).toBe(401);
    const login = await app.inject({ method: 'POST', url: '/login/ada' });
    expect([login.statusCode, login.headers.location]).toEqual([303, '/me']);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    expect((await app.inject({ url: '/me', headers: { cookie } })).json()).toEqual({ user: 'ada' });
    const created = await app.inject({ method: 'POST', url: '/api/users', payload: { name: 'Bob' }, headers: { cookie } });
    expect([created.statusCode, created.json()]).toEqual([201, { id: 2, name: 'Bob' }]);

    const download = await app.inject('/download/source');
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename="media\.(ts|js)"$/);
    expect(download.body).toContain('class Media');
    expect((await app.inject('/count/3')).body).toBe('1\n2\n3\n');
  });
});
