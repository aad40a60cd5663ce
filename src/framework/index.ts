// The framework's public names.
export { App, type AppListenOptions, type AppOptions, type ConverterSpec, type MountOptions, type Logger } from './app';
export { AppServer } from './app-server';
export { Blueprint } from './blueprint';
export { endpoint, type EndpointOptions, type EndpointHandler, type EndpointDecorator } from './endpoint';
export { HttpError } from './errors';
export { Headers, type HeaderInput, type HeadersLike } from './headers';
export type { CookieOptions } from './cookies';
export type { Middleware, ErrorHandler, Next } from './middleware';
export { Request, type Query } from './request';
export { Session, type SessionOptions } from './session';
export * as responses from './responses';
