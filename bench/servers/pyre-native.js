// Pyre's native interface (the fast path): one call answers the whole request.
const { serve, HeaderBlock } = require('../..');

const headers = new HeaderBlock({ 'content-type': 'text/plain' });

serve((exchange) => {
  exchange.respond(200, 'Hello, World!', headers);
}).listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
