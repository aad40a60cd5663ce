// Pyre as the bench servers load it: this checkout's build, or the one PYRE_ROOT names (the
// runner's --baseline option runs the Pyre servers a second time on another build, same run).
const path = require('node:path');

const ROOT = process.env.PYRE_ROOT ? path.resolve(process.env.PYRE_ROOT) : path.resolve(__dirname, '../..');

module.exports = require(ROOT);
/** The checkout whose build this is (for files beside the package's exports: the pyre command). */
module.exports.root = ROOT;
/** `node -r pyre-http/register` for the server that requires this. */
module.exports.register = () => require(path.join(ROOT, 'dist/src/register'));
