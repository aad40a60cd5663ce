// ESM entry for `import 'pyre/register'`: the CommonJS module does the work when loaded.
import '../dist/src/register.js';
