// Which prototypes a server gives its req/res objects.
//
// An Express app (4 or 5) sets each request's and response's prototype to its own `app.request`
// and `app.response` with Object.setPrototypeOf. In V8 an object whose prototype was changed,
// then given new properties (Express adds a dozen), gets a new hidden class every time: every
// property access in Express turns megamorphic and the hidden classes fill the old generation.
// That, not Express's own code, is most of what Express costs on node:http. So when the server's
// listener is such an app, req/res are created with the app's prototypes already, which makes
// Express's swap a no-op.
//
// Those prototypes inherit from ours when Express was required after pyre/register (it builds
// them from http.IncomingMessage/ServerResponse, which register replaces), and skip ours when
// Express came first: then `foreign` is set, and req/res carry what must survive without our
// prototype as own properties (see request.ts and response.ts).
import type { Exchange } from '../src/engine/exchange';
import { PyreIncomingMessage, type RequestOptions } from './request';
import { PyreServerResponse } from './response';
import type { PyreSocket } from './socket';

export type RequestConstructor = new (exchange: Exchange, socket: PyreSocket, options: RequestOptions, foreign: boolean) => PyreIncomingMessage;
export type ResponseConstructor = new (req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number, foreign: boolean) => PyreServerResponse;

interface PrototypeCarrier {
  request: object;
  response: object;
}

function carriesPrototypes(listener: unknown): listener is PrototypeCarrier {
  if (typeof listener !== 'function') return false;
  const app = listener as Partial<PrototypeCarrier>;
  return typeof app.request === 'object' && app.request !== null
    && typeof app.response === 'object' && app.response !== null;
}

// Plain constructor functions: V8 gives their objects one stable hidden class (Reflect.construct
// with another new.target does not).
function requestConstructor(prototype: object): RequestConstructor {
  const construct = function (this: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, options: RequestOptions, foreign: boolean): void {
    PyreIncomingMessage.init(this, exchange, socket, options, foreign);
  };
  construct.prototype = prototype;
  return construct as unknown as RequestConstructor;
}

function responseConstructor(prototype: object): ResponseConstructor {
  const construct = function (this: PyreServerResponse, req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number, foreign: boolean): void {
    PyreServerResponse.init(this, req, exchange, socket, keepAliveTimeout, foreign);
  };
  construct.prototype = prototype;
  return construct as unknown as ResponseConstructor;
}

export class ListenerPrototypes {
  Request: RequestConstructor = PyreIncomingMessage;
  Response: ResponseConstructor = PyreServerResponse;
  /** Some listener's prototypes skip ours. */
  foreign = false;
  private adopted: PrototypeCarrier | null = null;
  private several = false;

  /** A listener was added for 'request' or 'checkContinue'. */
  added(listener: unknown): void {
    if (!carriesPrototypes(listener)) return;
    if (!(listener.request instanceof PyreIncomingMessage) || !(listener.response instanceof PyreServerResponse)) this.foreign = true;
    if (this.several || this.adopted === listener) return;
    if (this.adopted === null) {
      this.adopted = listener;
      this.Request = requestConstructor(listener.request);
      this.Response = responseConstructor(listener.response);
    } else {
      // Two apps on one server: each swaps to its own; start from ours.
      this.several = true;
      this.Request = PyreIncomingMessage;
      this.Response = PyreServerResponse;
    }
  }
}
