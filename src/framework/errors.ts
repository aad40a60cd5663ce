// Errors that carry an HTTP status: thrown anywhere in a request, they become that response.
import { STATUS_CODES } from 'node:http';

export class HttpError extends Error {
  constructor(readonly status: number, message: string = STATUS_CODES[status] ?? 'Error') {
    super(message);
    this.name = 'HttpError';
  }
}
