// Pyre's framework on the fast path, synchronous handlers where the anchors' are (framework-app.ts).
import { Bench, build } from './framework-app';

build(new Bench()).listen(Number(process.env.PORT), '127.0.0.1');
