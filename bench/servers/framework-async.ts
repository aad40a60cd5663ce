// Pyre's framework on the fast path with `async` handlers, as the seed writes them (framework-app.ts).
import { AsyncBench, build } from './framework-app';

build(new AsyncBench()).listen(Number(process.env.PORT), '127.0.0.1');
