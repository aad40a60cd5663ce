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
// Those prototypes inherit from ours when Express was required after pyre-http/register (it builds
// them from http.IncomingMessage/ServerResponse, which register replaces). When Express came
// first they inherit straight from node's; then the Express object that does is re-parented onto
// ours, which inherit from node's, so nothing Express relies on goes missing. Our methods behave
// as node's on objects node made (no engine exchange), so node's own servers serving the same app
// are unaffected.
import * as http from 'node:http';
import type { Exchange } from '../src/engine/exchange';
import { PyreIncomingMessage, type RequestOptions } from './request';
import { PyreServerResponse } from './response';
import type { PyreSocket } from './socket';

export type RequestConstructor = new (exchange: Exchange, socket: PyreSocket, options: RequestOptions) => PyreIncomingMessage;
export type ResponseConstructor = new (req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number) => PyreServerResponse;

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
  const construct = function (this: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, options: RequestOptions): void {
    PyreIncomingMessage.init(this, exchange, socket, options);
  };
  construct.prototype = prototype;
  return construct as unknown as RequestConstructor;
}

/**
 * Responses with `prototype`. With a request limit (node's maxRequestsPerSocket) each also carries
 * it for its Keep-Alive field; on a closing server each says `Connection: close`. Servers with
 * neither do no work for them.
 */
function responseConstructor(prototype: object, requestLimit: number, closing: boolean): ResponseConstructor {
  const construct = requestLimit > 0 || closing
    ? function (this: PyreServerResponse, req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number): void {
      PyreServerResponse.init(this, req, exchange, socket, keepAliveTimeout);
      this._maxRequestsPerSocket = requestLimit;
      if (closing) this.shouldKeepAlive = false;
    }
    : function (this: PyreServerResponse, req: PyreIncomingMessage, exchange: Exchange, socket: PyreSocket, keepAliveTimeout: number): void {
      PyreServerResponse.init(this, req, exchange, socket, keepAliveTimeout);
    };
  construct.prototype = prototype;
  return construct as unknown as ResponseConstructor;
}

/** Where `prototype`'s chain reaches node's prototype directly, it goes through ours instead. */
function reparent(prototype: object, node: object, ours: object): void {
  let current = prototype;
  for (;;) {
    const parent = Object.getPrototypeOf(current) as object | null;
    if (parent === null || parent === ours) return;
    if (parent === node) {
      Object.setPrototypeOf(current, ours);
      return;
    }
    current = parent;
  }
}

export class ListenerPrototypes {
  Request: RequestConstructor = PyreIncomingMessage;
  Response: ResponseConstructor = PyreServerResponse;
  private adopted: PrototypeCarrier | null = null;
  private several = false;
  private requestLimit = 0;
  private closing = false;

  /** A listener was added for 'request' or 'checkContinue'. */
  added(listener: unknown): void {
    if (!carriesPrototypes(listener)) return;
    reparent(listener.request, http.IncomingMessage.prototype, PyreIncomingMessage.prototype);
    reparent(listener.response, http.ServerResponse.prototype, PyreServerResponse.prototype);
    if (this.several || this.adopted === listener) return;
    if (this.adopted === null) {
      this.adopted = listener;
      this.Request = requestConstructor(listener.request);
    } else {
      // Two apps on one server: each swaps to its own; start from ours.
      this.several = true;
      this.Request = PyreIncomingMessage;
    }
    this.Response = this.makeResponse();
  }

  /** The server's maxRequestsPerSocket changed. */
  limitRequests(limit: number): void {
    this.requestLimit = limit;
    this.Response = this.makeResponse();
  }

  /** The server closed (responses made from now on say `Connection: close`) or listens again. */
  setClosing(closing: boolean): void {
    if (this.closing === closing) return;
    this.closing = closing;
    this.Response = this.makeResponse();
  }

  private makeResponse(): ResponseConstructor {
    const prototype = this.adopted !== null && !this.several ? this.adopted.response : null;
    if (prototype === null && this.requestLimit === 0 && !this.closing) return PyreServerResponse;
    return responseConstructor(prototype ?? PyreServerResponse.prototype, this.requestLimit, this.closing);
  }
}
