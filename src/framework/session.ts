// Sessions stored in a cookie, sealed with AES-256-GCM. Each secret in `sessionKeys` (any string)
// is stretched to a 32-byte key with HKDF; the first key seals, every key opens, so keys rotate
// by putting a new one first. A cookie that does not open (tampered, expired, unknown key,
// garbage) is an empty session, never an error.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_INFO = 'pyre session v1';

export interface SessionOptions {
  /** Cookie name. Default 'pyre_session'. */
  cookieName?: string;
  /** Seconds a session lives after its last change. Default 14 days. */
  maxAge?: number;
  domain?: string;
  /** Default '/'. */
  path?: string;
  /** Default false: set it when the app is served over HTTPS. */
  secure?: boolean;
  /** Default 'Lax'. */
  sameSite?: 'Strict' | 'Lax' | 'None';
}

/** A map-like session. Values must survive JSON. */
export class Session {
  private readonly data: Map<string, unknown>;
  /** @internal Set when the content changed (or needs resealing with the current key). */
  dirty = false;

  constructor(entries: Iterable<[string, unknown]> = []) {
    this.data = new Map(entries);
  }

  get<T = unknown>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  set(key: string, value: unknown): this {
    if (value === undefined) throw new TypeError(`session value for ${key} must not be undefined (use delete)`);
    this.data.set(key, value);
    this.dirty = true;
    return this;
  }

  has(key: string): boolean {
    return this.data.has(key);
  }

  delete(key: string): boolean {
    const had = this.data.delete(key);
    this.dirty ||= had;
    return had;
  }

  clear(): void {
    this.dirty ||= this.data.size > 0;
    this.data.clear();
  }

  get size(): number {
    return this.data.size;
  }

  keys(): IterableIterator<string> {
    return this.data.keys();
  }

  entries(): IterableIterator<[string, unknown]> {
    return this.data.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, unknown]> {
    return this.data.entries();
  }

  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.data);
  }
}

interface Sealed {
  /** Expiry, ms since the epoch. */
  e: number;
  d: [string, unknown][];
}

/** Seals sessions into cookie values and opens them again. */
export class SessionSealer {
  private readonly keys: Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new TypeError('pyre: sessionKeys must be a non-empty list of non-empty strings');
    }
    this.keys = secrets.map((secret) => Buffer.from(hkdfSync('sha256', secret, '', KEY_INFO, 32)));
  }

  seal(session: Session, maxAgeSeconds: number, now = Date.now()): string {
    const payload: Sealed = { e: now + maxAgeSeconds * 1000, d: [...session.entries()] };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    const encrypted = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), encrypted]).toString('base64url');
  }

  /** The session in `value`, or an empty one. Opened with an older key, it is marked for resealing. */
  open(value: string | undefined, now = Date.now()): Session {
    if (!value) return new Session();
    const raw = Buffer.from(value, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return new Session();
    for (let i = 0; i < this.keys.length; i++) {
      const payload = decrypt(this.keys[i], raw);
      if (payload === null) continue;
      if (!(payload.e > now) || !Array.isArray(payload.d)) return new Session();
      const session = new Session(payload.d);
      session.dirty = i > 0;
      return session;
    }
    return new Session();
  }
}

function decrypt(key: Buffer, raw: Buffer): Sealed | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Sealed;
  } catch {
    return null;
  }
}
