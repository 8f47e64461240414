import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { apiStatusOf, createKubeClient, isApiError, type KubeClient } from '../../../../src/operator/kube/client.ts';
import { SMS_EXPERIMENT } from '../../../../src/operator/controller/experiment.ts';
import { LEASE, SERVICE } from '../../../../src/operator/kube/resources.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}


/** A loopback HTTP server standing in for the API server: records requests, answers as told. */
describe('kube-client', () => {
  let server: Server;
  let client: KubeClient;
  const seen: Seen[] = [];
  /** The client's port of the connection each request came on. */
  const ports: Array<number | undefined> = [];
  let reply: (request: Seen) => { status: number; body: unknown } = () => ({ status: 200, body: {} });

  before(async () => {
    server = createServer((request: IncomingMessage, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        const entry: Seen = {
          method: request.method ?? '',
          url: request.url ?? '',
          contentType: request.headers['content-type'],
          authorization: request.headers.authorization,
          body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
        };
        ports.push(request.socket.remotePort);
        seen.push(entry);
        const { status, body } = reply(entry);
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'operator', token: 'secret-token' }],
      contexts: [{ name: 'local', cluster: 'local', user: 'operator' }],
      currentContext: 'local',
    });
    client = createKubeClient(kubeConfig, { requestTimeoutMs: 5_000 });
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
    ports.length = 0;
    reply = () => ({ status: 200, body: {} });
  });

  it('reuses its connections: one pooled Agent, not a new one per request as client-node builds them', async () => {
    for (let i = 0; i < 10; i++) await client.get(SERVICE, { namespace: 'ns', name: `s-${i}` });
    assert.equal(ports.length, 10);
    // undici may open a second connection when the next request comes before the first socket is
    // back in the pool; a new Agent per request would make it ten.
    assert.ok(new Set(ports).size <= 2, `10 sequential requests came on ${new Set(ports).size} connections`);
    await Promise.all(Array.from({ length: 4 }, (_, i) => client.get(SERVICE, { namespace: 'ns', name: `p-${i}` })));
    await client.get(SERVICE, { namespace: 'ns', name: 'after' });
    assert.ok(new Set(ports).size <= 6, `15 requests, at most 4 at once, came on ${new Set(ports).size} connections`);
  });

  it('applies with the apply-patch content type, field manager and force, sending plain JSON', async () => {
    reply = (request) => ({ status: 200, body: request.body });
    const body = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns', name: 'sms-app' }, spec: { unknownField: 1 } };
    const result = await client.apply(SERVICE, body, { fieldManager: 'smsx', force: false });
    assert.deepEqual(seen[0], {
      method: 'PATCH',
      url: '/api/v1/namespaces/ns/services/sms-app?fieldManager=smsx&force=false',
      contentType: 'application/apply-patch+yaml',
      authorization: 'Bearer secret-token',
      body,
    });
    assert.deepEqual(result, body, 'the response comes back as plain JSON, unknown fields intact');
  });

  it('applies the status subresource of a custom resource', async () => {
    await client.apply(SMS_EXPERIMENT, { metadata: { namespace: 'ns', name: 'demo' } }, { fieldManager: 'smsx', force: true, subresource: 'status' });
    assert.equal(seen[0]?.url, '/apis/experiments.sms-app.io/v1alpha1/namespaces/ns/smsexperiments/demo/status?fieldManager=smsx&force=true');
  });

  it('gets an object, and undefined for a 404', async () => {
    reply = (request) =>
      request.url.endsWith('/missing')
        ? { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound', message: 'leases.coordination.k8s.io "missing" not found' } }
        : { status: 200, body: { kind: 'Lease', metadata: { name: 'l' } } };
    assert.deepEqual(await client.get(LEASE, { namespace: 'ops', name: 'l' }), { kind: 'Lease', metadata: { name: 'l' } });
    assert.equal(await client.get(LEASE, { namespace: 'ops', name: 'missing' }), undefined);
    assert.equal(seen[0]?.url, '/apis/coordination.k8s.io/v1/namespaces/ops/leases/l');
  });

  it('lists in a namespace or the whole cluster, with a label selector', async () => {
    reply = () => ({ status: 200, body: { kind: 'ServiceList', metadata: { resourceVersion: '42' }, items: null } });
    const result = await client.list(SERVICE, undefined, { labelSelector: 'experiments.sms-app.io/experiment' });
    assert.deepEqual(result, { kind: 'ServiceList', metadata: { resourceVersion: '42' }, items: [] });
    assert.equal(seen[0]?.url, '/api/v1/services?labelSelector=experiments.sms-app.io%2Fexperiment');
    await client.list(SERVICE, 'ns');
    assert.equal(seen[1]?.url, '/api/v1/namespaces/ns/services');
  });

  it('deletes with a uid precondition and background propagation, false when gone or replaced', async () => {
    assert.equal(await client.delete(SERVICE, { namespace: 'ns', name: 'old' }, { uid: 'u-1' }), true);
    assert.equal(seen[0]?.method, 'DELETE');
    assert.deepEqual(seen[0]?.body, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: 'u-1' } });
    reply = () => ({ status: 404, body: { kind: 'Status', code: 404 } });
    assert.equal(await client.delete(SERVICE, { namespace: 'ns', name: 'old' }), false);
    reply = () => ({ status: 409, body: { kind: 'Status', code: 409, message: 'Precondition failed: UID in precondition: u-1, UID in object meta: u-2' } });
    assert.equal(await client.delete(SERVICE, { namespace: 'ns', name: 'old' }, { uid: 'u-1' }), false);
  });

  it('creates and replaces with a field manager', async () => {
    await client.create(LEASE, 'ops', { metadata: { name: 'l' } }, { fieldManager: 'smsx' });
    await client.replace(LEASE, { namespace: 'ops', name: 'l' }, { metadata: { name: 'l', resourceVersion: '3' } });
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url} ${s.contentType}`),
      ['POST /apis/coordination.k8s.io/v1/namespaces/ops/leases?fieldManager=smsx application/json', 'PUT /apis/coordination.k8s.io/v1/namespaces/ops/leases/l application/json'],
    );
  });

  it('throws an ApiException carrying the code and the parsed Status body', async () => {
    const status = { kind: 'Status', code: 409, reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "kubectl-edit"', details: { causes: [{ field: '.spec.replicas' }] } };
    reply = () => ({ status: 409, body: status });
    await assert.rejects(client.apply(SERVICE, { metadata: { namespace: 'ns', name: 'x' } }, { fieldManager: 'smsx', force: false }), (error: unknown) => {
      assert.ok(isApiError(error, 409));
      assert.match(error.message, /PATCH \/api\/v1\/namespaces\/ns\/services\/x failed: Apply failed with 1 conflict/);
      assert.deepEqual(apiStatusOf(error), status);
      return true;
    });
  });

  it('rejects when the API server cannot be reached', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'gone', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'gone', cluster: 'gone', user: 'u' }],
      currentContext: 'gone',
    });
    await assert.rejects(createKubeClient(kubeConfig).get(LEASE, { namespace: 'a', name: 'b' }));
  });

  it('discovers the resources of a group/version, and undefined when it is not served', async () => {
    reply = (request) =>
      request.url === '/apis/apps/v1'
        ? { status: 200, body: { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments' }, { name: 'deployments/status' }] } }
        : { status: 404, body: '404 page not found' };
    assert.deepEqual(await client.discover('apps/v1'), ['deployments', 'deployments/status']);
    assert.equal(await client.discover('networking.istio.io/v1'), undefined);
    assert.deepEqual(seen.map((request) => request.url), ['/apis/apps/v1', '/apis/networking.istio.io/v1']);
  });

  it('aborts a request the server never answers when the caller\'s signal fires, well before its own timeout', async () => {
    // Accepts connections and reads the request, never answers: a hung API server.
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    const silent = createTcpServer((socket) => {
      sockets.push(socket);
      closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'silent', cluster: 'silent', user: 'u' }],
      currentContext: 'silent',
    });
    try {
      const hanging = createKubeClient(kubeConfig, { requestTimeoutMs: 60_000 });
      const reason = new Error('renew deadline passed');
      const controller = new AbortController();
      const request = hanging.replace(LEASE, { namespace: 'a', name: 'b' }, { metadata: { name: 'b' } }, { signal: controller.signal });
      // Wait until the request reached the server, so the abort cuts a request in flight.
      while (sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      controller.abort(reason);
      await assert.rejects(request, (error: unknown) => error === reason);
      await Promise.race([
        Promise.all(closed),
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the aborted request left its connection open')), 5_000)),
      ]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
