// Renders sample SmsExperiments to YAML for offline checks of the renderer's output:
//
//   node hack/check-rendered.ts [out-dir]          (default .cache/rendered)
//   istioctl analyze --use-kube=false -R <out-dir>/<sample> <out-dir>/fixtures
//   promtool check rules <out-dir>/<sample>/rules.yaml
//
// Samples come from config/samples/*.yaml when that folder exists, else from the two shortest
// inline specs; two inline samples that switch on every optional object are always added. Each
// sample gets its own folder (the samples share object names, so analyse them one at a time) with
// one file per object, all.yaml with every object, and rules.yaml when monitoring is on.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { API_VERSION, KIND, smsExperimentSchema, type SmsExperiment } from '../src/crd/schema.ts';
import { promtoolRuleFile, render } from '../src/operator/render/index.ts';

const NAMESPACE = 'sms-app';
const PLACEHOLDER_UID = '00000000-0000-4000-8000-000000000000';
const SAMPLES_DIR = 'config/samples';

interface Sample {
  file: string;
  document: unknown;
}

function experiment(name: string, spec: Record<string, unknown>): unknown {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec };
}

const MINIMAL_SAMPLES: Sample[] = [
  { file: 'canary', document: experiment('sms-app', {}) },
  { file: 'shadow', document: experiment('sms-app', { mode: 'shadow' }) },
];

const EXHAUSTIVE_SAMPLES: Sample[] = [
  {
    file: 'canary-everything',
    document: experiment('sms-app', {
      traffic: { weights: { stable: 50, canary: 50 }, stickySession: { ttl: '1h30m' } },
      storage: { persistentVolumeClaim: 'sms-models' },
      monitoring: {
        highRequestRate: { perMinute: 2.5, for: '5m' },
        email: { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587' },
      },
    }),
  },
  { file: 'shadow-everything', document: experiment('sms-app', { mode: 'shadow', traffic: { mirrorPercent: 12.5 } }) },
];

async function loadSamples(): Promise<Sample[]> {
  if (!existsSync(SAMPLES_DIR)) return MINIMAL_SAMPLES;
  const files = (await readdir(SAMPLES_DIR)).filter((file) => /\.ya?ml$/.test(file)).sort();
  const samples: Sample[] = [];
  for (const file of files) {
    const documents = parseAllDocuments(await readFile(path.join(SAMPLES_DIR, file), 'utf8'));
    for (const [index, document] of documents.entries()) {
      const value: unknown = document.toJS();
      const suffix = documents.length > 1 ? `-${index + 1}` : '';
      samples.push({ file: `${path.basename(file, path.extname(file))}${suffix}`, document: value });
    }
  }
  return samples;
}

/** What the API server would hand the operator: defaults applied, namespace and uid set. */
function admitted(document: unknown): SmsExperiment {
  const resource = (document ?? {}) as { metadata?: Record<string, unknown> };
  const metadata = { namespace: NAMESPACE, uid: PLACEHOLDER_UID, ...resource.metadata };
  return smsExperimentSchema.parse({ ...resource, metadata });
}

/**
 * `istioctl analyze --use-kube=false` sees only its input files; without an ingress gateway pod and
 * Service matching the Gateway's selector it reports IST0101 (selector not found). Stand-ins for
 * what the Istio installation provides in a real cluster.
 */
function ingressGatewayFixture(): unknown[] {
  const labels = { istio: 'ingressgateway', app: 'istio-ingressgateway' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', labels },
      spec: { selector: labels, ports: [{ name: 'http2', port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'istio-ingressgateway-fixture', namespace: 'istio-system', labels },
      spec: { containers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2', ports: [{ containerPort: 8080 }] }] },
    },
  ];
}

function multiDocument(objects: unknown[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? '.cache/rendered';
  await rm(outDir, { recursive: true, force: true });
  const samples = [...(await loadSamples()), ...EXHAUSTIVE_SAMPLES];
  for (const sample of samples) {
    const objects = render(admitted(sample.document));
    const dir = path.join(outDir, sample.file);
    await mkdir(dir, { recursive: true });
    for (const [index, object] of objects.entries()) {
      const file = `${String(index + 1).padStart(2, '0')}-${object.kind.toLowerCase()}-${object.metadata.name}.yaml`;
      await writeFile(path.join(dir, file), stringify(object));
    }
    await writeFile(path.join(dir, 'all.yaml'), multiDocument(objects));
    const rules = promtoolRuleFile(objects);
    if (rules !== undefined) await writeFile(path.join(dir, 'rules.yaml'), rules);
    console.log(`${dir}: ${objects.length} objects${rules === undefined ? '' : ', rules.yaml'}`);
  }
  await mkdir(path.join(outDir, 'fixtures'), { recursive: true });
  await writeFile(path.join(outDir, 'fixtures', 'istio-ingressgateway.yaml'), multiDocument(ingressGatewayFixture()));
  console.log(`${path.join(outDir, 'fixtures')}: ingress gateway stand-ins for offline istioctl analyze`);
}

await main();
