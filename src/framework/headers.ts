// Response headers: names and values are validated when they are set, never when they are sent,
// so a bad value fails in the handler that wrote it (no CR/LF/NUL ever reaches the wire).
import { checkHeaderName, checkHeaderValue } from '../engine/headers';

export type HeaderInput = string | number | readonly (string | number)[];
export type HeadersLike = Headers | Readonly<Record<string, HeaderInput | undefined>>;

/** Case-insensitive, multi-valued header map. Names are kept lower-case. */
export class Headers {
  /** name → value, or values for fields that occur more than once. */
  private readonly fields: Record<string, string | string[]> = {};

  constructor(init?: HeadersLike) {
    if (init instanceof Headers) {
      for (const [name, value] of init.entries()) this.append(name, value);
    } else if (init !== undefined) {
      for (const name of Object.keys(init)) {
        const value = init[name];
        if (value !== undefined) this.set(name, value);
      }
    }
  }

  /** @internal Request headers as the server parsed them ([name, value, ...]): already checked, not re-validated. */
  static received(raw: readonly string[]): Headers {
    const headers = new Headers();
    const fields = headers.fields;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i].toLowerCase();
      const current = fields[key];
      if (current === undefined) fields[key] = raw[i + 1];
      else if (typeof current === 'string') fields[key] = [current, raw[i + 1]];
      else current.push(raw[i + 1]);
    }
    return headers;
  }

  /** Replaces every value of `name`. */
  set(name: string, value: HeaderInput): this {
    const key = validName(name);
    if (Array.isArray(value)) {
      const values = (value as readonly (string | number)[]).map((v) => validValue(name, v));
      if (values.length === 0) delete this.fields[key];
      else this.fields[key] = values.length === 1 ? values[0] : values;
    } else {
      this.fields[key] = validValue(name, value as string | number);
    }
    return this;
  }

  /** Adds a value, keeping the ones already there (Set-Cookie, Vary, ...). */
  append(name: string, value: string | number): this {
    const key = validName(name);
    const added = validValue(name, value);
    const current = this.fields[key];
    if (current === undefined) this.fields[key] = added;
    else if (typeof current === 'string') this.fields[key] = [current, added];
    else current.push(added);
    return this;
  }

  /** The value, repeated fields joined with ", " (use getAll for Set-Cookie). */
  get(name: string): string | undefined {
    const value = this.fields[name.toLowerCase()];
    return typeof value === 'string' || value === undefined ? value : value.join(', ');
  }

  getAll(name: string): string[] {
    const value = this.fields[name.toLowerCase()];
    return value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
  }

  has(name: string): boolean {
    return this.fields[name.toLowerCase()] !== undefined;
  }

  delete(name: string): boolean {
    const key = name.toLowerCase();
    const had = this.fields[key] !== undefined;
    delete this.fields[key];
    return had;
  }

  /** One [name, value] pair per value. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.fields)) {
      for (const value of this.getAll(name)) yield [name, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** @internal The validated fields, shared (not copied) for the transport to send. */
  record(): Readonly<Record<string, string | readonly string[]>> {
    return this.fields;
  }
}

function validName(name: string): string {
  checkHeaderName(name);
  return name.toLowerCase();
}

function validValue(name: string, value: string | number): string {
  const text = String(value);
  checkHeaderValue(name, text);
  return text;
}
