// A raw HTTP/1.1 client connection for the soak: writes exact bytes and reads responses one at a
// time, streaming each body to a sink so multi-megabyte bodies are checked without being kept.
const net = require('node:net');

class SoakError extends Error {
  /** `kind` is the error's category in the soak's report. */
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

/** Collects a body in memory (for small ones). */
function collect() {
  const pieces = [];
  return { write: (chunk) => pieces.push(chunk), result: () => Buffer.concat(pieces) };
}

class Connection {
  constructor(socket) {
    this.socket = socket;
    /** Received, not yet parsed. */
    this.pending = Buffer.alloc(0);
    /** Bytes received in all. */
    this.received = 0;
    this.closed = false;
    this.closeError = null;
    this.wake = null;
    socket.on('data', (chunk) => {
      this.received += chunk.length;
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.notify();
    });
    socket.on('error', (err) => { this.closeError = err; });
    socket.on('close', () => { this.closed = true; this.notify(); });
  }

  static open(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const failed = (err) => reject(new SoakError('connect', err.code ?? err.message));
      socket.once('error', failed);
      socket.once('connect', () => { socket.removeListener('error', failed); resolve(new Connection(socket)); });
    });
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  /** Closes with RST instead of FIN, as a client that crashes or gives up does. */
  reset() {
    this.socket.resetAndDestroy();
  }

  close() {
    this.socket.destroy();
  }

  notify() {
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
  }

  /** Waits for more bytes (or the close); throws 'timeout' past the deadline. */
  async more(deadline) {
    if (this.closed) {
      const code = this.closeError ? this.closeError.code ?? this.closeError.message : 'closed';
      throw new SoakError(code === 'ECONNRESET' ? 'reset-by-server' : 'unexpected-close', `connection ${code} mid-response`);
    }
    if (Date.now() >= deadline) throw new SoakError('timeout', 'no complete response in time');
    await this.event(deadline);
  }

  /** Resolves on the next arrival or close, or at the deadline. */
  event(deadline) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
  }

  /** Takes `n` parsed bytes off the front of what was received. */
  take(n) {
    const bytes = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return bytes;
  }

  /** A CRLF-terminated line (without the CRLF). */
  async line(deadline) {
    for (;;) {
      const end = this.pending.indexOf('\r\n');
      if (end !== -1) return this.take(end + 2).subarray(0, end).toString('latin1');
      await this.more(deadline);
    }
  }

  /** Hands `n` body bytes to `sink` as they arrive. */
  async bytes(n, sink, deadline) {
    while (n > 0) {
      if (this.pending.length === 0) await this.more(deadline);
      const piece = this.take(Math.min(n, this.pending.length));
      n -= piece.length;
      sink.write(piece);
    }
  }

  /**
   * Reads one response: { status, headers (names lower-cased), body (what the sink returned) }.
   * `head`: the request was HEAD, so no body follows.
   */
  async response({ sink = collect(), head = false, timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    const statusLine = await this.line(deadline);
    const match = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
    if (!match) throw new SoakError('bad-response', `status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const headers = {};
    for (let field = await this.line(deadline); field !== ''; field = await this.line(deadline)) {
      const colon = field.indexOf(':');
      headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
    }
    const status = Number(match[1]);
    if (head || status === 204 || status === 304 || status < 200) return { status, headers, body: Buffer.alloc(0) };
    if (/chunked$/i.test(headers['transfer-encoding'] ?? '')) {
      for (let size = parseInt(await this.line(deadline), 16); size > 0; size = parseInt(await this.line(deadline), 16)) {
        await this.bytes(size, sink, deadline);
        if ((await this.line(deadline)) !== '') throw new SoakError('bad-response', 'chunk not followed by CRLF');
      }
      while ((await this.line(deadline)) !== '');
    } else if (headers['content-length'] !== undefined) {
      await this.bytes(Number(headers['content-length']), sink, deadline);
    } else {
      throw new SoakError('bad-response', 'response without length or chunked framing');
    }
    return { status, headers, body: sink.result() };
  }

  /** Resolves once `count` bytes in all have arrived, whatever they are. */
  async receivedAtLeast(count, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.received < count) {
      this.pending = Buffer.alloc(0); // not parsed: only counted
      await this.more(deadline);
    }
  }

  /** Resolves once the server has closed the connection (after `timeoutMs`: throws). */
  async closedByServer(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() >= deadline) throw new SoakError('not-closed', 'server kept a Connection: close connection open');
      await this.event(deadline);
    }
  }
}

module.exports = { Connection, SoakError, collect };
