// The public API of the `pyre-http` package.

// The engine's fast path.
export { serve, NativeServer } from './engine/server';
export type { Handler, ListenOptions, AddressInfo, NativeServerOptions } from './engine/server';
export { Exchange, RequestAbortedError } from './engine/exchange';
export type { Body } from './engine/exchange';
export { HeaderBlock, InvalidHeaderError } from './engine/headers';
export type { HeadersInit, HeaderValue } from './engine/headers';
export type { EngineOptions } from './engine/options';

// The framework.
export { App, AppServer, Blueprint, endpoint, HttpError, Headers, Request, Session, responses } from './framework';
export type { AppListenOptions, AppOptions, ConverterSpec, MountOptions, Logger, EndpointOptions, EndpointHandler, EndpointDecorator, HeaderInput, HeadersLike, CookieOptions, Middleware, ErrorHandler, Next, Query, SessionOptions } from './framework';

// Drop-in node:http compatibility.
export { createServer, Server } from '../compat/server';
export type { RequestListener, ServerOptions } from '../compat/server';
