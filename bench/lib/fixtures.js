// The bodies the benchmark sends and expects, the same in the runner and in every server: made
// from fixed seeds on each start (never random), and written as files for the cases that serve
// files, into bench/.build/fixtures/ (gitignored).
const fs = require('node:fs');
const path = require('node:path');

const FIXTURE_DIR = path.resolve(__dirname, '../.build/fixtures');

const KIB = 1024;
/** The response sizes of the large-body cases, by the name in their paths. */
const SIZES = { '64k': 64 * KIB, '1m': 1024 * KIB };
const UPLOAD_SIZE = 256 * KIB;

/** `size` bytes of printable text from a small linear congruential generator: compressible by nobody, identical everywhere. */
function pattern(size, seed) {
  const bytes = Buffer.allocUnsafe(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i += 1) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    bytes[i] = 33 + (x >>> 24) % 94;
  }
  return bytes;
}

const cache = new Map();
/** The response body of the size named `name` ('64k' or '1m'). */
function body(name) {
  if (!cache.has(name)) cache.set(name, pattern(SIZES[name], SIZES[name]));
  return cache.get(name);
}

/** The file holding body(name), written now when missing or different. */
function file(name) {
  const target = path.join(FIXTURE_DIR, `${name}.bin`);
  const expected = body(name);
  const current = fs.existsSync(target) ? fs.readFileSync(target) : null;
  if (current === null || !current.equals(expected)) {
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    fs.writeFileSync(target, expected);
  }
  return target;
}

/** The upload the 256 KiB case sends. */
function upload() {
  if (!cache.has('upload')) cache.set('upload', pattern(UPLOAD_SIZE, 7));
  return cache.get('upload');
}

/** The ~1.5 KB JSON document the echo case posts: an order with 20 lines. */
function order() {
  const lines = [];
  for (let i = 1; i <= 20; i += 1) {
    lines.push({ sku: `SKU-${1000 + i * 37}`, name: `Item number ${i}`, quantity: i % 4 + 1, price: Math.round(i * 7.31 * 100) / 100 });
  }
  return { id: 'order-2026-0042', customer: { name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold' }, currency: 'EUR', lines };
}

/** What every server answers to order(): the same document with one field added. */
function echoed(document) {
  return { ...document, echoed: true };
}

/** A file holding the body of `request` (a case of cases.js), for the load generators to send. */
function bodyFile(request) {
  const target = path.join(FIXTURE_DIR, `${request.id}.body`);
  if (!fs.existsSync(target) || !fs.readFileSync(target).equals(request.body)) {
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    fs.writeFileSync(target, request.body);
  }
  return target;
}

module.exports = { FIXTURE_DIR, SIZES, UPLOAD_SIZE, body, file, upload, order, echoed, bodyFile };
