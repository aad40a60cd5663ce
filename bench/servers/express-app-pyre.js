// express-app.js's app, unmodified, on Pyre through pyre-http/register.
require('../lib/pyre').register();
const build = require('./express-app');

build().listen(Number(process.env.PORT), '127.0.0.1');
