import { RawClient, startServer, stopAll, getOnce } from './helpers';
afterAll(stopAll);
test('t', async () => {
  const { port } = startServer(async (ex) => { const b = await ex.body(); ex.respond(200, `body ${b.length}`); });
  for (let i = 0; i < 3; i++) {
    const t2 = Date.now();
    const r = await getOnce(port);
    const t3 = Date.now();
    console.log(t3 - t2, r.body.toString());
  }
});
