// ESM entry: the package is CommonJS; this re-exports its named exports.
import pyre from '../dist/src/index.js';

export const { serve, NativeServer, Exchange, RequestAbortedError, HeaderBlock, InvalidHeaderError } = pyre;
export const { createServer, Server } = pyre;
export default pyre;
export const { App, AppServer, Blueprint, endpoint, HttpError, Headers, Request, Session, responses } = pyre;
