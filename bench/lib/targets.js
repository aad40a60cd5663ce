// The issues' targets for Pyre (benchmark figures, not tests): each compares one measurement's
// figure with a reference measurement's figure times a factor, in the same run.

const KEEP_ALIVE = 'keep-alive';
const PIPELINED = 'pipelined';
const IDLE = 'idle';

const METRICS = {
  rps: { label: 'req/s', unit: '' },
  p99Ms: { label: 'p99', unit: ' ms' },
  cpuUsPerRequest: { label: 'CPU/req', unit: ' µs' },
  bytesPerConnection: { label: 'memory/connection', unit: ' B' },
};

const HELLO_WORLD = ['hello', 'hello-name', 'user'];
const BODIES = ['json-echo', 'upload-256k'];
const LARGE = ['buffer-64k', 'buffer-1m', 'stream-64k', 'stream-1m'];
/** Every case measured under load, for the latency target. */
const LOADED = [...HELLO_WORLD, ...BODIES, ...LARGE, 'static-1m', 'hello-10k', 'app-get', 'app-post'];

/** A Pyre server's counterpart on node:http, for "x times node's": the first of these measured in the case. */
const NODE_TWINS = {
  'pyre-native': ['node-http'],
  'pyre-compat': ['node-http'],
  'fastify-pyre': ['fastify'],
  'express-pyre': ['express'],
  'express-app-pyre': ['express-app'],
  'framework-pyre': ['framework-node', 'node-http'],
  'framework-async': ['framework-node', 'node-http'],
};

const cpu = (issue, subject, reference, cases, max, mode = KEEP_ALIVE) => cases.map((caseId) => ({
  issue, subject, reference, case: caseId, mode, metric: 'cpuUsPerRequest', max,
}));

/**
 * `subject`'s metric in `case` must be at most (`max`) or at least (`min`) the factor times
 * `reference`'s in `referenceCase` (default: the same case). `reference` may be a list: the first
 * one measured in that case is taken.
 */
const TARGETS = [
  // Issues 3-5: hello world.
  { issue: 3, subject: 'pyre-native', reference: 'uws', case: 'hello', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1 },
  { issue: 3, subject: 'pyre-native', reference: 'uws', case: 'hello', mode: KEEP_ALIVE, metric: 'rps', min: 0.95 },
  { issue: 3, subject: 'pyre-native', reference: 'node-http', case: 'hello', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.5 },
  { issue: 3, subject: 'pyre-native', reference: 'node-http', case: 'hello', mode: PIPELINED, metric: 'rps', min: 10 },
  { issue: 4, subject: 'pyre-compat', reference: 'node-http', case: 'hello', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.6 },
  { issue: 4, subject: 'pyre-compat', reference: 'node-http', case: 'hello', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6 },
  { issue: 4, subject: 'fastify-pyre', reference: 'fastify', case: 'hello', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.6 },
  { issue: 4, subject: 'fastify-pyre', reference: 'fastify', case: 'hello', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6 },
  { issue: 4, subject: 'express-pyre', reference: 'express', case: 'hello', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.5 },
  { issue: 4, subject: 'express-pyre', reference: 'express', case: 'hello', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6 },
  ...['hello-name', 'user'].flatMap((caseId) => [
    { issue: 5, subject: 'framework-pyre', reference: 'uws', case: caseId, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1 },
    { issue: 5, subject: 'framework-pyre', reference: 'fastify', case: caseId, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.5 },
  ]),
  // Issue 13: request bodies and large responses.
  ...cpu(13, 'pyre-compat', 'node-http', [...BODIES, ...LARGE], 0.5),
  ...cpu(13, 'fastify-pyre', 'fastify', [...BODIES, ...LARGE], 0.55),
  ...cpu(13, 'pyre-native', 'uws', [...BODIES, ...LARGE], 1),
  ...cpu(13, 'framework-pyre', 'uws', [...BODIES, ...LARGE], 1),
  // Files: each framework against itself on node, and near the loopback limit (c-sendfile).
  ...cpu(13, 'express-pyre', 'express', ['static-1m'], 0.5),
  ...cpu(13, 'fastify-pyre', 'fastify', ['static-1m'], 0.5),
  ...cpu(13, 'framework-pyre', 'framework-node', ['static-1m'], 0.5),
  ...['express-pyre', 'fastify-pyre', 'framework-pyre'].map((subject) => ({
    issue: 13, subject, reference: 'c-sendfile', case: 'static-1m', mode: KEEP_ALIVE, metric: 'rps', min: 0.8,
  })),
  // Many connections: CPU per request as at 64 connections, and the memory an idle one holds.
  ...['pyre-native', 'pyre-compat', 'framework-pyre'].map((subject) => ({
    issue: 13, subject, reference: subject, case: 'hello-10k', referenceCase: 'hello', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1.1,
  })),
  ...['pyre-native', 'pyre-compat', 'framework-pyre'].flatMap((subject) => [
    { issue: 13, subject, reference: 'node-http', case: 'idle-10k', mode: IDLE, metric: 'bytesPerConnection', max: 1 },
    { issue: 13, subject, case: 'idle-10k', mode: IDLE, metric: 'bytesPerConnection', atMost: 4096 },
  ]),
  // async handlers that return at once.
  ...['hello-name', 'user'].flatMap((caseId) => [
    { issue: 13, subject: 'framework-async', reference: 'uws', case: caseId, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1 },
    { issue: 13, subject: 'framework-async', reference: 'framework-pyre', case: caseId, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1.05 },
  ]),
  // The Express app.
  ...cpu(13, 'express-app-pyre', 'express-app', ['app-get', 'app-post'], 0.5),
  // Latency: every Pyre server in every loaded case against its node twin.
  ...Object.entries(NODE_TWINS).flatMap(([subject, twins]) => LOADED.map((caseId) => ({
    issue: 13, subject, reference: twins, case: caseId, mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6, optional: true,
  }))),
];

/**
 * Targets on the --baseline build: each Pyre server's hello-world figures no worse than the same
 * server's on the baseline, same run (3% allowed for the machine's noise).
 */
function baselineTargets(find) {
  const noise = 1.03;
  return ['pyre-native', 'pyre-compat', 'fastify-pyre', 'express-pyre', 'framework-pyre', 'framework-async'].flatMap((subject) => HELLO_WORLD
    .filter((caseId) => find(subject, caseId, KEEP_ALIVE) && find(`${subject}@baseline`, caseId, KEEP_ALIVE))
    .map((caseId) => ({ issue: 13, subject, reference: `${subject}@baseline`, case: caseId, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: noise })));
}

function describe(target, reference) {
  const metric = METRICS[target.metric];
  const where = `${target.case}, ${target.mode}`;
  if (target.atMost !== undefined) return `issue ${target.issue}: ${target.subject} ${metric.label} ≤ ${target.atMost}${metric.unit} (${where})`;
  const bound = target.max !== undefined ? `≤ ${target.max}×` : `≥ ${target.min}×`;
  const against = target.referenceCase ? `its own ${target.referenceCase}` : `${reference}'s`;
  return `issue ${target.issue}: ${target.subject} ${metric.label} ${bound} ${against} (${where})`;
}

/**
 * Each target with its verdict: 'met', 'missed', or 'n/a' when a case was not measured. Optional
 * targets (latency against whichever node twin ran the case) are left out when not measured.
 */
function evaluateTargets(find) {
  return [...TARGETS, ...baselineTargets(find)].flatMap((target) => {
    const references = target.reference === undefined ? [] : [target.reference].flat();
    const reference = references.find((name) => find(name, target.referenceCase ?? target.case, target.mode)) ?? references[0];
    const description = describe(target, reference);
    const subject = find(target.subject, target.case, target.mode);
    const value = subject?.[target.metric] ?? null;
    const referenceValue = target.atMost ?? find(reference, target.referenceCase ?? target.case, target.mode)?.[target.metric] ?? null;
    if (value === null || referenceValue === null) return target.optional ? [] : [{ ...target, reference, description, verdict: 'n/a' }];
    const ratio = value / referenceValue;
    const met = target.min !== undefined ? ratio >= target.min : ratio <= (target.max ?? 1);
    const metric = METRICS[target.metric];
    return [{
      ...target,
      reference,
      description,
      verdict: met ? 'met' : 'missed',
      ratio,
      measured: `${round(value)}${metric.unit} vs ${round(referenceValue)}${metric.unit}`,
    }];
  });
}

function round(value) {
  return value >= 100 ? Math.round(value) : Number(value.toPrecision(3));
}

module.exports = { evaluateTargets, KEEP_ALIVE, PIPELINED, IDLE };
