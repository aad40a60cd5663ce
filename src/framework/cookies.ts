// Cookie serialisation with every attribute MDN documents, and Cookie header parsing.
// Names and values are validated (RFC 6265 §4.1.1); a value needing other bytes must be encoded by the app.

export interface CookieOptions {
  expires?: Date;
  /** Seconds; 0 or less expires the cookie at once. */
  maxAge?: number;
  domain?: string;
  path?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** CHIPS: requires `secure`. */
  partitioned?: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// cookie-octet: visible ASCII except DQUOTE, comma, semicolon and backslash; optionally quoted.
const COOKIE_VALUE = /^(?:[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*|"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")$/;
// Attribute values (Domain, Path): no CTLs and no semicolon.
const ATTRIBUTE_VALUE = /^[\x20-\x3a\x3c-\x7e]+$/;

export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  if (!COOKIE_VALUE.test(value)) {
    throw new TypeError(`invalid value for cookie ${name}: encode it first (e.g. encodeURIComponent)`);
  }
  let cookie = `${name}=${value}`;
  if (options.expires !== undefined) {
    if (Number.isNaN(options.expires.getTime())) throw new TypeError(`cookie ${name}: expires is an invalid Date`);
    cookie += `; Expires=${options.expires.toUTCString()}`;
  }
  if (options.maxAge !== undefined) {
    if (!Number.isFinite(options.maxAge)) throw new TypeError(`cookie ${name}: maxAge must be a finite number`);
    cookie += `; Max-Age=${Math.floor(options.maxAge)}`;
  }
  if (options.domain !== undefined) cookie += `; Domain=${attribute(name, 'domain', options.domain)}`;
  if (options.path !== undefined) cookie += `; Path=${attribute(name, 'path', options.path)}`;
  if (options.secure) cookie += '; Secure';
  if (options.httpOnly) cookie += '; HttpOnly';
  if (options.sameSite !== undefined) {
    if (!['Strict', 'Lax', 'None'].includes(options.sameSite)) throw new TypeError(`cookie ${name}: sameSite must be Strict, Lax or None`);
    if (options.sameSite === 'None' && !options.secure) throw new TypeError(`cookie ${name}: SameSite=None requires secure`);
    cookie += `; SameSite=${options.sameSite}`;
  }
  if (options.partitioned) {
    if (!options.secure) throw new TypeError(`cookie ${name}: partitioned requires secure`);
    cookie += '; Partitioned';
  }
  return cookie;
}

/** A Set-Cookie value that removes the cookie (Domain and Path must match the ones it was set with). */
export function expiredCookie(name: string, options: Pick<CookieOptions, 'domain' | 'path' | 'secure' | 'sameSite' | 'partitioned'> = {}): string {
  return serializeCookie(name, '', { ...options, expires: new Date(0), maxAge: 0 });
}

function attribute(cookie: string, attribute: string, value: string): string {
  if (!ATTRIBUTE_VALUE.test(value)) throw new TypeError(`cookie ${cookie}: invalid ${attribute} ${JSON.stringify(value)}`);
  return value;
}

/** Parses a Cookie header; the first occurrence of a name wins, values are percent-decoded when valid. */
export function parseCookies(header: string | undefined): ReadonlyMap<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    cookies.set(name, decode(value));
  }
  return cookies;
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
