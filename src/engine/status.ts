import { STATUS_CODES } from 'node:http';

/** The reason phrase for a status code ('Unknown' for codes node does not name). */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}
