// ESM entry for `import 'pyre-http/register'`: the CommonJS module does the work when loaded.
import '../dist/src/register.js';
