// Streamed responses: async iterables or node Readables, written with backpressure.
import type { Readable } from 'node:stream';
import type { Transport } from '../transport/transport';
import { Response, type ResponseInit } from './response';

export type StreamSource = AsyncIterable<string | Buffer | Uint8Array> | Readable;

/** Writes `source` to a started stream response, waiting whenever the connection is backed up. */
export async function pump(transport: Transport, source: StreamSource): Promise<void> {
  try {
    for await (const chunk of source as AsyncIterable<string | Buffer | Uint8Array>) {
      if (transport.aborted) return;
      const data = typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (!transport.write(data)) await transport.drained();
    }
  } catch (err) {
    // The status is sent already: the only honest signal left is a cut connection.
    transport.destroy();
    throw err;
  }
  if (!transport.aborted) transport.end();
}

export class StreamResponse extends Response {
  constructor(private readonly source: StreamSource, init?: ResponseInit) {
    super(undefined, init, 'application/octet-stream');
  }

  override send(transport: Transport): Promise<void> {
    transport.startStream(this.status, this.headers.record(), -1);
    return pump(transport, this.source);
  }
}
