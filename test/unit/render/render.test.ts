import assert from 'node:assert/strict';
import { formatIssues, smsExperimentSchema, type SmsExperiment } from '../../../src/crd/schema.ts';
import {
  EXPERIMENT_LABEL,
  RenderError,
  experimentLabelSelector,
  render,
  renderableKinds,
  type RenderedObject,
} from '../../../src/operator/render/index.ts';
import { NAMESPACE, UID, byName, experiment, objectIds } from './fixtures.ts';

const CANARY_OBJECTS = [
  'ConfigMap/sms-app-config',
  'Service/sms-app-app',
  'Service/sms-app-app-v1',
  'Service/sms-app-model',
  'Service/sms-app-model-v1',
  'Service/sms-app-model-v2',
  'Deployment/sms-app-app',
  'Deployment/sms-app-app-canary',
  'Deployment/sms-app-model',
  'Deployment/sms-app-model-canary',
  'Gateway/sms-app-gateway',
  'DestinationRule/sms-app-app-dr',
  'VirtualService/sms-app-vs',
  'DestinationRule/sms-app-model-dr',
  'VirtualService/sms-app-model-vs',
  'Ingress/sms-app-ingress',
  'ServiceMonitor/sms-app-app',
  'ServiceMonitor/sms-app-model',
  'PrometheusRule/sms-app-alerts',
  'ConfigMap/sms-app-dashboard-metrics',
  'ConfigMap/sms-app-dashboard-experiment',
];

const SHADOW_OBJECTS = [
  'ConfigMap/sms-app-config',
  'Service/sms-app-app',
  'Service/sms-app-app-v1',
  'Service/sms-app-model',
  'Service/sms-app-model-v1',
  'Deployment/sms-app-app',
  'Deployment/sms-app-model',
  'Deployment/sms-app-model-shadow',
  'Gateway/sms-app-gateway',
  'DestinationRule/sms-app-app-dr',
  'VirtualService/sms-app-vs',
  'DestinationRule/sms-app-model-dr',
  'VirtualService/sms-app-model-vs',
  'Ingress/sms-app-ingress',
  'ServiceMonitor/sms-app-app',
  'ServiceMonitor/sms-app-model',
  'PrometheusRule/sms-app-alerts',
  'ConfigMap/sms-app-dashboard-metrics',
  'ConfigMap/sms-app-dashboard-experiment',
];

const STANDARD_LABEL_KEYS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  EXPERIMENT_LABEL,
];

const EMAIL = { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587' };

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The same JSON value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([key, child]) => [key, reverseKeys(child)]));
  }
  return value;
}

function difference(a: string[], b: string[]): string[] {
  return a.filter((item) => !b.includes(item));
}

describe('render: object set', () => {
  it('renders the seed\'s objects in canary mode, in a fixed order', () => {
    assert.deepEqual(objectIds(render(experiment())), CANARY_OBJECTS);
  });

  it('renders the shadow set in shadow mode', () => {
    assert.deepEqual(objectIds(render(experiment({ mode: 'shadow' }))), SHADOW_OBJECTS);
  });

  it('switching canary -> shadow drops exactly the canary workloads and model-v2, and adds the shadow model', () => {
    const canary = objectIds(render(experiment()));
    const shadow = objectIds(render(experiment({ mode: 'shadow' })));
    assert.deepEqual(difference(canary, shadow), ['Service/sms-app-model-v2', 'Deployment/sms-app-app-canary', 'Deployment/sms-app-model-canary']);
    assert.deepEqual(difference(shadow, canary), ['Deployment/sms-app-model-shadow']);
  });

  it('adds the AlertmanagerConfig only when email alerting is configured', () => {
    const ids = objectIds(render(experiment({ monitoring: { email: EMAIL } })));
    assert.deepEqual(difference(ids, CANARY_OBJECTS), ['AlertmanagerConfig/sms-app-email']);
  });

  it('leaves out every monitoring object when monitoring is off or its CRDs are missing', () => {
    const monitoring = ['ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig'];
    const withoutMonitoring = CANARY_OBJECTS.filter((id) => !monitoring.includes(id.split('/')[0] ?? '') && !id.includes('dashboard'));
    const spec = { monitoring: { email: EMAIL } };
    assert.deepEqual(objectIds(render(experiment(spec), { monitoring: false })), withoutMonitoring);
    assert.deepEqual(objectIds(render(experiment({ monitoring: { enabled: false, email: EMAIL } }))), withoutMonitoring);
    assert.deepEqual(objectIds(render(experiment(spec), { monitoring: true })), [...CANARY_OBJECTS.slice(0, 19), 'AlertmanagerConfig/sms-app-email', ...CANARY_OBJECTS.slice(19)]);
  });

  it('leaves out the Ingress and the stable-only app Service it needs when the ingress is off', () => {
    const ids = objectIds(render(experiment({ ingress: { enabled: false } })));
    assert.deepEqual(difference(CANARY_OBJECTS, ids), ['Service/sms-app-app-v1', 'Ingress/sms-app-ingress']);
  });

  it('derives every name from the experiment name, so two experiments share a namespace without clashes', () => {
    const first = objectIds(render(experiment({}, 'sms-app')));
    const second = objectIds(render(experiment({}, 'trial')));
    assert.deepEqual(second, first.map((id) => id.replace('/sms-app-', '/trial-')));
    assert.equal(first.filter((id) => second.includes(id)).length, 0);
  });

  it('follows the version labels in version-specific names', () => {
    const ids = objectIds(render(experiment({ app: { stable: { version: 'blue' } }, model: { stable: { version: 'm1' }, canary: { version: 'm2' } } })));
    assert.ok(ids.includes('Service/sms-app-app-blue'));
    assert.ok(ids.includes('Service/sms-app-model-m1'));
    assert.ok(ids.includes('Service/sms-app-model-m2'));
  });

  it('produces only kinds listed by renderableKinds()', () => {
    const kinds = new Set(renderableKinds().map((kind) => `${kind.apiVersion}/${kind.kind}`));
    const objects = [...render(experiment({ monitoring: { email: EMAIL }, app: { stable: { replicas: 2 } } })), ...render(experiment({ mode: 'shadow' }))];
    for (const object of objects) assert.ok(kinds.has(`${object.apiVersion}/${object.kind}`), `${object.apiVersion}/${object.kind}`);
    assert.equal(kinds.size, new Set(objects.map((object) => `${object.apiVersion}/${object.kind}`)).size, 'every listed kind is produced by some spec');
  });
});

describe('render: ownership and labels', () => {
  const samples: [string, SmsExperiment][] = [
    ['canary', experiment({ monitoring: { email: EMAIL } })],
    ['shadow', experiment({ mode: 'shadow' })],
  ];
  for (const [mode, input] of samples) {
    it(`gives every ${mode} object the experiment's namespace, a controller ownerReference and the standard labels`, () => {
      for (const object of render(input)) {
        const id = `${object.kind}/${object.metadata.name}`;
        assert.equal(object.metadata.namespace, NAMESPACE, id);
        assert.deepEqual(
          object.metadata.ownerReferences,
          [{ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', name: 'sms-app', uid: UID, controller: true, blockOwnerDeletion: true }],
          id,
        );
        for (const key of STANDARD_LABEL_KEYS) assert.ok(object.metadata.labels[key], `${id} lacks ${key}`);
        assert.equal(object.metadata.labels[EXPERIMENT_LABEL], 'sms-app', id);
        assert.equal(object.metadata.labels['app.kubernetes.io/instance'], 'sms-app', id);
        assert.equal(object.metadata.labels['app.kubernetes.io/managed-by'], 'sms-experiment-operator', id);
      }
    });
  }

  it('labels versioned workloads and version Services with their version', () => {
    const objects = render(experiment({ mode: 'shadow' }));
    const versions = Object.fromEntries(
      objects
        .filter((object) => object.metadata.labels.version !== undefined)
        .map((object) => [`${object.kind}/${object.metadata.name}`, object.metadata.labels.version]),
    );
    assert.deepEqual(versions, {
      'Service/sms-app-app-v1': 'v1',
      'Service/sms-app-model-v1': 'v1',
      'Deployment/sms-app-app': 'v1',
      'Deployment/sms-app-model': 'v1',
      'Deployment/sms-app-model-shadow': 'shadow',
    });
    for (const object of objects) {
      assert.equal(object.metadata.labels['app.kubernetes.io/version'], object.metadata.labels.version);
    }
  });

  it('exports the list selector for the experiment label', () => {
    assert.equal(experimentLabelSelector('sms-app'), 'experiments.sms-app.io/experiment=sms-app');
  });
});

describe('render: purity and determinism', () => {
  it('renders deep-equal, byte-identical output twice', () => {
    const input = experiment({ monitoring: { email: EMAIL } });
    assert.equal(JSON.stringify(render(input)), JSON.stringify(render(input)));
  });

  it('ignores the key order of the input', () => {
    const spec = {
      mode: 'canary' as const,
      istio: { gatewaySelector: { istio: 'ingressgateway', app: 'istio-ingressgateway' } },
      traffic: { weights: { stable: 70, canary: 30 }, stickySession: { ttl: '2h', cookie: 'v' } },
      monitoring: { email: EMAIL },
    };
    const forward = experiment(spec);
    const reversed = reverseKeys(forward) as SmsExperiment;
    assert.notEqual(JSON.stringify(forward), JSON.stringify(reversed));
    assert.equal(JSON.stringify(render(reversed)), JSON.stringify(render(forward)));
  });

  it('does not modify its input', () => {
    const input = deepFreeze(experiment({ monitoring: { email: EMAIL } }));
    assert.doesNotThrow(() => render(input));
  });

  it('returns plain JSON trees that share no objects (no class instances, no aliases)', () => {
    const seen = new Set<object>();
    const visit = (value: unknown, path: string): void => {
      if (value === null || typeof value !== 'object') {
        assert.ok(['string', 'number', 'boolean'].includes(typeof value), `${path} is ${typeof value}`);
        return;
      }
      assert.ok(!seen.has(value), `${path} is shared with another place`);
      seen.add(value);
      const prototype: unknown = Object.getPrototypeOf(value);
      assert.ok(Array.isArray(value) || prototype === Object.prototype, `${path} is not a plain object`);
      for (const [key, child] of Object.entries(value)) visit(child, `${path}.${key}`);
    };
    const objects: RenderedObject[] = render(experiment({ monitoring: { email: EMAIL } }));
    objects.forEach((object, index) => visit(object, `[${index}]${object.kind}`));
  });

  it('reads no clock and no randomness', () => {
    const input = experiment({ monitoring: { email: EMAIL } });
    const { now } = Date;
    const { random } = Math;
    const RealDate = globalThis.Date;
    const forbidden = (what: string) => () => {
      throw new Error(`render() called ${what}`);
    };
    try {
      Date.now = forbidden('Date.now');
      Math.random = forbidden('Math.random');
      globalThis.Date = new Proxy(RealDate, { construct: forbidden('new Date') });
      assert.doesNotThrow(() => render(input));
    } finally {
      globalThis.Date = RealDate;
      Date.now = now;
      Math.random = random;
    }
  });

  it('rolls the app pods when the app configuration changes, not otherwise', () => {
    const hash = (spec: Parameters<typeof experiment>[0]) =>
      byName(render(experiment(spec)), 'Deployment', 'sms-app-app').spec.template.metadata?.annotations?.['experiments.sms-app.io/config-hash'];
    assert.match(hash({}) ?? '', /^[0-9a-f]{16}$/);
    assert.equal(hash({ traffic: { weights: { stable: 50, canary: 50 } } }), hash({}));
    assert.notEqual(hash({ model: { port: 9000 } }), hash({}));
  });
});

describe('render: refuses specs it cannot render faithfully', () => {
  // Each rule has one home: the schema (CEL for the API server, its zod twin for the operator, which
  // parses every cached experiment before rendering). These inputs bypass the API server, as a gap
  // in the CRD would, and are refused by the schema the operator parses with, naming the field.
  const bypassingSchema = (change: (experiment: SmsExperiment) => void): SmsExperiment => {
    const input = structuredClone(experiment());
    change(input);
    return input;
  };
  const schemaCases: [string, SmsExperiment, RegExp][] = [
    ['weights not summing to 100', bypassingSchema((e) => (e.spec.traffic.weights.stable = 80)), /spec\.traffic\.weights/],
    ['equal app versions', bypassingSchema((e) => (e.spec.app.canary.version = 'v1')), /app\.canary\.version must differ from app\.stable\.version/],
    [
      'equal model versions in shadow mode',
      bypassingSchema((e) => {
        e.spec.mode = 'shadow';
        e.spec.model.shadow.version = 'v1';
      }),
      /model\.shadow\.version must all differ/,
    ],
    ['a version that is no DNS label', bypassingSchema((e) => (e.spec.app.canary.version = 'V2.0')), /spec\.app\.canary\.version: version must be a DNS-1123 label/],
    ['duplicate hosts', bypassingSchema((e) => (e.spec.istio.hosts.canary = 'sms-app.local')), /spec\.istio\.hosts/],
    ['a TTL that is not a duration', bypassingSchema((e) => (e.spec.traffic.stickySession.ttl = 'an hour')), /stickySession\.ttl/],
    [
      'a mirror percentage above 100',
      bypassingSchema((e) => {
        e.spec.mode = 'shadow';
        e.spec.traffic.mirrorPercent = 101;
      }),
      /mirrorPercent/,
    ],
    ['both storage sources', bypassingSchema((e) => (e.spec.storage = { hostPath: '/m', persistentVolumeClaim: 'm' })), /spec\.storage/],
    ['no storage source', bypassingSchema((e) => (e.spec.storage = {})), /spec\.storage/],
  ];
  for (const [what, input, message] of schemaCases) {
    it(`${what} (by the schema)`, () => {
      const parsed = smsExperimentSchema.safeParse(input);
      assert.ok(!parsed.success, 'the schema accepted it');
      assert.match(formatIssues(parsed.error).join('; '), message);
    });
  }

  // What only the renderer can see: names derived from several fields, and the uid it stamps.
  const renderCases: [string, SmsExperiment, RegExp][] = [
    ['a name too long for its Services', bypassingSchema((e) => (e.metadata.name = 'a'.repeat(55))), /Service name 'a{55}-model-v1'/],
    ['no uid for the ownerReferences', bypassingSchema((e) => delete e.metadata.uid), /metadata\.uid/],
  ];
  for (const [what, input, message] of renderCases) {
    it(what, () => {
      assert.throws(() => render(input), (error: unknown) => error instanceof RenderError && message.test(error.message));
    });
  }

  it('ignores fields of the mode it does not render (canary weights in shadow mode)', () => {
    const input = bypassingSchema((e) => {
      e.spec.mode = 'shadow';
      e.spec.traffic.weights = { stable: 1, canary: 1 };
    });
    assert.doesNotThrow(() => render(input));
  });
});
