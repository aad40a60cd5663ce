// Header text travels as Latin-1 both ways, as node's http does: a received obs-text byte reads
// as one character, and a character up to U+00FF in a response header goes out as one byte.
import { RawClient, startServer, stopAll } from './helpers';

afterEach(stopAll);

test('obs-text in a request header reads as Latin-1, and goes back out as the same byte', async () => {
  let seen = '';
  const { port } = startServer((ex) => {
    seen = ex.header('x-name') ?? '';
    ex.respond(200, 'ok', { 'x-echo': seen, 'x-fixed': 'caf\u00e9' });
  });
  const client = await RawClient.connect(port);
  client.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: t\r\nX-Name: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')]));
  const [response] = await client.responses(1);
  client.destroy();
  expect(seen).toBe('caf\u00e9');
  const raw = response.raw;
  expect(raw.includes(Buffer.concat([Buffer.from('x-echo: caf'), Buffer.from([0xe9, 0x0d, 0x0a])]))).toBe(true);
  expect(raw.includes(Buffer.concat([Buffer.from('x-fixed: caf'), Buffer.from([0xe9, 0x0d, 0x0a])]))).toBe(true);
});
