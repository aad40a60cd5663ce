// Files: Content-Type from the extension, Last-Modified and ETag with conditional requests,
// a single byte range (206/416), HEAD without reading the file.
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { HttpError } from '../errors';
import type { Transport } from '../transport/transport';
import { Response, type ResponseInit } from './response';
import { pump } from './stream';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.xml': 'application/xml',
  '.csv': 'text/csv; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.wasm': 'application/wasm',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg',
  '.woff2': 'font/woff2',
};

export interface FileResponseInit extends ResponseInit {
  /** Overrides the type guessed from the extension. */
  contentType?: string;
  /** Serve as an attachment: true uses the file's own name. */
  download?: boolean | string;
}

interface ByteRange {
  start: number;
  end: number;
}

export class FileResponse extends Response {
  private readonly filePath: string;

  constructor(filePath: string, init: FileResponseInit = {}) {
    const type = init.contentType ?? CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
    super(undefined, init, type);
    this.filePath = path.resolve(filePath);
    if (init.download) {
      this.headers.set('content-disposition', contentDisposition(init.download === true ? path.basename(filePath) : init.download));
    }
  }

  override async send(transport: Transport): Promise<void> {
    const stats = await fs.stat(this.filePath).catch(() => null);
    if (stats === null || !stats.isFile()) throw new HttpError(404);
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    const headers = this.headers;
    headers.set('last-modified', stats.mtime.toUTCString());
    headers.set('etag', etag);
    headers.set('accept-ranges', 'bytes');

    const fresh = this.status === 200 && (transport.method === 'GET' || transport.method === 'HEAD') && notModified(transport, etag, stats);
    if (fresh) {
      headers.delete('content-type');
      transport.respond(304, headers.record(), undefined);
      return;
    }
    const range = this.status === 200 ? requestedRange(transport, etag, stats) : null;
    if (range === 'unsatisfiable') {
      headers.set('content-range', `bytes */${stats.size}`);
      transport.respond(416, headers.record(), undefined);
      return;
    }
    const { start, end } = range ?? { start: 0, end: stats.size - 1 };
    if (range !== null) headers.set('content-range', `bytes ${start}-${end}/${stats.size}`);
    const length = Math.max(0, end - start + 1);
    transport.startStream(range === null ? this.status : 206, headers.record(), length);
    if (transport.method === 'HEAD' || length === 0) {
      transport.end();
      return;
    }
    await pump(transport, createReadStream(this.filePath, { start, end }));
  }
}

function notModified(transport: Transport, etag: string, stats: Stats): boolean {
  const ifNoneMatch = transport.header('if-none-match');
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => weakEqual(tag.trim(), etag));
  }
  const since = Date.parse(transport.header('if-modified-since') ?? '');
  return !Number.isNaN(since) && Math.floor(stats.mtimeMs / 1000) * 1000 <= since;
}

function weakEqual(a: string, b: string): boolean {
  return a.replace(/^W\//, '') === b.replace(/^W\//, '');
}

/** The single range asked for, null to send everything (no Range, several ranges, stale If-Range). */
function requestedRange(transport: Transport, etag: string, stats: Stats): ByteRange | 'unsatisfiable' | null {
  const header = transport.header('range');
  if (header === undefined || (transport.method !== 'GET' && transport.method !== 'HEAD')) return null;
  const ifRange = transport.header('if-range');
  if (ifRange !== undefined && ifRange !== etag.slice(2) && ifRange !== stats.mtime.toUTCString()) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return null;
  const size = stats.size;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end || (match[1] === '' && Number(match[2]) === 0)) return 'unsatisfiable';
  return { start, end };
}

function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return ascii === filename
    ? `attachment; filename="${filename}"`
    : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
