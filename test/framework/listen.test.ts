// App.listen() and its server's close(): the drain the drop-in and the native server have.
import { App, Blueprint, endpoint, type Request } from '../../src/framework';
import { RawClient, delay } from '../engine/helpers';

class Slow extends Blueprint {
  release: (() => void) | null = null;

  @endpoint('/slow')
  async onSlow(): Promise<string> {
    await new Promise<void>((resolve) => (this.release = resolve));
    return 'slow done';
  }

  @endpoint('/fast')
  onFast(request: Request): string {
    return `fast ${request.url}`;
  }
}

test('close(): idle keep-alive connections close at once, an in-flight response says Connection: close, then the server is gone', async () => {
  const app = new App({ keepAliveTimeout: 60_000 });
  const slow = new Slow();
  app.addBlueprint(slow);
  const server = await app.listen(0, '127.0.0.1');
  const { port } = server.address();
  const idle = await RawClient.connect(port);
  idle.write('GET /fast HTTP/1.1\r\nHost: t\r\n\r\n');
  const [first] = await idle.responses(1);
  expect(first.headers.connection).toBeUndefined();

  const busy = await RawClient.connect(port);
  busy.write('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n');
  while (slow.release === null) await delay(2);

  let closed = false;
  const closing = server.close().then(() => (closed = true));
  // The idle connection goes without waiting for its 60 s keep-alive timeout.
  expect(await idle.closedByServer()).toHaveLength(1);
  expect(closed).toBe(false);
  slow.release();
  const [answer] = await busy.closedByServer();
  expect(answer.body.toString()).toBe('slow done');
  expect(answer.headers.connection).toBe('close');
  await closing;
  expect(closed).toBe(true);
});
