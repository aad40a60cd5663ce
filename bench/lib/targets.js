// The issues' targets for Pyre (benchmark figures, not tests): each compares one case's figure
// with a reference case's figure times a factor, in the same run.

const KEEP_ALIVE = 'keep-alive';
const PIPELINED = 'pipelined';

const METRICS = {
  rps: { label: 'req/s', unit: '' },
  p99Ms: { label: 'p99', unit: ' ms' },
  cpuUsPerRequest: { label: 'CPU/req', unit: ' µs' },
};

/** `subject`'s metric must be at most (`max`) or at least (`min`) the factor times `reference`'s. */
const TARGETS = [
  { issue: 3, subject: 'pyre-native', reference: 'uws', route: '/', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1 },
  { issue: 3, subject: 'pyre-native', reference: 'uws', route: '/', mode: KEEP_ALIVE, metric: 'rps', min: 0.95 },
  { issue: 3, subject: 'pyre-native', reference: 'node-http', route: '/', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.5 },
  { issue: 3, subject: 'pyre-native', reference: 'node-http', route: '/', mode: PIPELINED, metric: 'rps', min: 10 },
  { issue: 4, subject: 'pyre-compat', reference: 'node-http', route: '/', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.6 },
  { issue: 4, subject: 'pyre-compat', reference: 'node-http', route: '/', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6 },
  { issue: 4, subject: 'fastify-pyre', reference: 'fastify', route: '/', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.6 },
  { issue: 4, subject: 'fastify-pyre', reference: 'fastify', route: '/', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6 },
  { issue: 4, subject: 'express-pyre', reference: 'express', route: '/', mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.5 },
  { issue: 4, subject: 'express-pyre', reference: 'express', route: '/', mode: KEEP_ALIVE, metric: 'p99Ms', max: 0.6 },
  ...['/hello/:name', '/users/:id'].flatMap((route) => [
    { issue: 5, subject: 'framework-pyre', reference: 'uws', route, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 1 },
    { issue: 5, subject: 'framework-pyre', reference: 'fastify', route, mode: KEEP_ALIVE, metric: 'cpuUsPerRequest', max: 0.5 },
  ]),
];

/** Each target with its verdict: 'met', 'missed', or 'n/a' when a case was not measured. */
function evaluateTargets(find) {
  return TARGETS.map((target) => {
    const metric = METRICS[target.metric];
    const bound = target.max !== undefined ? `≤ ${target.max}×` : `≥ ${target.min}×`;
    const description = `issue ${target.issue}: ${target.subject} ${metric.label} ${bound} ${target.reference}'s (${target.route}, ${target.mode})`;
    const subject = find(target.subject, target.route, target.mode);
    const reference = find(target.reference, target.route, target.mode);
    if (!subject || !reference || subject[target.metric] === null || reference[target.metric] === null) {
      return { ...target, description, verdict: 'n/a' };
    }
    const ratio = subject[target.metric] / reference[target.metric];
    const met = target.max !== undefined ? ratio <= target.max : ratio >= target.min;
    return {
      ...target,
      description,
      verdict: met ? 'met' : 'missed',
      ratio,
      measured: `${round(subject[target.metric])}${metric.unit} vs ${round(reference[target.metric])}${metric.unit}`,
    };
  });
}

function round(value) {
  return value >= 100 ? Math.round(value) : Number(value.toPrecision(3));
}

module.exports = { evaluateTargets, KEEP_ALIVE, PIPELINED };
