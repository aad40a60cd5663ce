// Stand-ins for node:http's IncomingMessage and ServerResponse exports, which pyre-http/register puts
// in their place (as Bun's node:http does). Express builds its request and response prototypes
// from these exports when first required; made from ours, they inherit our lean methods, so an
// Express app's req/res keep them after Express swaps their prototypes.
//
// Anyone else who constructs or subclasses these exports (light-my-request does:
// `http.ServerResponse.call(this, req)`) still gets node's constructor, and our methods fall back
// to node's for objects without an engine exchange. `instanceof` accepts node's own objects too.
import * as http from 'node:http';
import { PyreIncomingMessage } from './request';
import { PyreServerResponse } from './response';

type NodeConstructor = (this: object, ...args: unknown[]) => unknown;

/** A constructor that runs node's, with our prototype, and node's `instanceof`. */
function standIn(name: string, node: NodeConstructor & { prototype: object }, prototype: object): NodeConstructor {
  const construct = function (this: object, ...args: unknown[]): void {
    node.apply(this, args);
  };
  Object.defineProperty(construct, 'name', { value: name });
  construct.prototype = prototype;
  Object.defineProperty(construct, Symbol.hasInstance, { value: (value: unknown) => value instanceof (node as never) });
  Object.setPrototypeOf(construct, node);
  return construct;
}

export const IncomingMessage = standIn('IncomingMessage', http.IncomingMessage as never, PyreIncomingMessage.prototype);
export const ServerResponse = standIn('ServerResponse', http.ServerResponse as never, PyreServerResponse.prototype);
