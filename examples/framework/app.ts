// A realistic app: several blueprints loaded from their modules, sessions, global middleware.
import { App } from 'pyre-http';

export async function createApp(): Promise<App> {
  const app = new App({ sessionKeys: [process.env.SESSION_SECRET ?? 'development only secret'], debug: process.env.NODE_ENV === 'development' });
  // Global middleware: timing header on every response, 404s included.
  app.use(async (_request, next) => {
    const started = process.hrtime.bigint();
    const response = await next();
    response.headers.set('server-timing', `app;dur=${Number(process.hrtime.bigint() - started) / 1e6}`);
    return response;
  });
  for (const blueprint of ['./blueprints/hello', './blueprints/users', './blueprints/account', './blueprints/media']) {
    await app.load(blueprint);
  }
  return app;
}

if (require.main === module) {
  void createApp()
    .then((app) => app.listen(Number(process.env.PORT ?? 8000)))
    .then((server) => console.log(`listening on port ${server.address().port}`));
}
