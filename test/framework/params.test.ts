// Path parameters as the engine hands them over on the fast path: inline arguments up to four,
// one array beyond, in path order, converted, non-ASCII text intact.
import * as http from 'node:http';
import { App, Blueprint, endpoint, type Request } from '../../src';

function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

class Params extends Blueprint {
  @endpoint('/one/{a}')
  one(_r: Request, ...values: unknown[]) {
    return values;
  }
  @endpoint('/four/{a:int}/{b}/{c:float}/{d:uuid}')
  four(_r: Request, ...values: unknown[]) {
    return values;
  }
  @endpoint('/five/{a}/{b:int}/{c}/{d}/{e:path}')
  five(_r: Request, ...values: unknown[]) {
    return values;
  }
  @endpoint('/six/{a}/{b}/{c}/{d}/{e}/{f:int}')
  six(_r: Request, ...values: unknown[]) {
    return values;
  }
}

let app: App;
let server: Awaited<ReturnType<App['listen']>>;
let port: number;

beforeAll(async () => {
  app = new App();
  app.addBlueprint(new Params());
  server = await app.listen(0, '127.0.0.1');
  port = server.address().port;
});
afterAll(() => server.close());

test('one parameter, percent-decoded, non-ASCII', async () => {
  expect(await getJson(port, '/one/caf%C3%A9%20%2F')).toEqual(['café /']);
});

test('four parameters, each converted', async () => {
  const uuid = '123e4567-e89b-12d3-a456-426614174000';
  expect(await getJson(port, `/four/-42/x/2.5/${uuid}`)).toEqual([-42, 'x', 2.5, uuid]);
});

test('five and six parameters travel as one array, in path order', async () => {
  expect(await getJson(port, '/five/a/7/c/d/e/f/g')).toEqual(['a', 7, 'c', 'd', 'e/f/g']);
  expect(await getJson(port, '/six/a/b/c/d/%E2%9C%93/6')).toEqual(['a', 'b', 'c', 'd', '✓', 6]);
});

test('the same answers without a socket', async () => {
  const res = await app.inject({ method: 'GET', url: '/six/a/b/c/d/e/6' });
  expect(JSON.parse(res.body)).toEqual(['a', 'b', 'c', 'd', 'e', 6]);
});
