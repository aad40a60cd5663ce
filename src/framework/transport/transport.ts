// What the framework needs from a transport: one small adapter per server kind
// (the engine's Exchange, node's IncomingMessage/ServerResponse) behind one pipeline.
import type { FixedHeaders } from './fixed-headers';

export type OutgoingHeaders = Readonly<Record<string, string | readonly string[]>>;

export interface Transport {
  readonly method: string;
  /** The request-target as received: percent-encoded path and query. */
  readonly target: string;
  /** [name, value, name, value, ...] as received. */
  rawHeaders(): string[];
  /** A request header (name lower-case); repeated fields joined with ", ". */
  header(name: string): string | undefined;
  remote(): [string, number];
  local(): [string, number];
  /** The request body, chunk by chunk, with backpressure. Throws if the client goes away. */
  chunks(): AsyncIterable<Buffer>;
  /** A complete response at once. */
  respond(status: number, headers: OutgoingHeaders | FixedHeaders, body: string | Buffer | undefined): void;
  /** Starts a streamed response; `contentLength` -1 when unknown. */
  startStream(status: number, headers: OutgoingHeaders, contentLength: number): void;
  /** False when the caller should `await drained()` before writing more. */
  write(chunk: Buffer | string): boolean;
  /** Resolves when written output has drained or the client has gone. */
  drained(): Promise<void>;
  end(): void;
  /** Cuts the connection (a streamed response failed half-way). */
  destroy(): void;
  /** The client went away before the response finished. */
  readonly aborted: boolean;
  /** Aborted when the client goes away before the response finished. */
  readonly signal: AbortSignal;
  readonly headersSent: boolean;
}
