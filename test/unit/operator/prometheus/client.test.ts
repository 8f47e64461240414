// Prometheus' /api/v1/query answers checked with zod, and each failure as its typed problem.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrometheusClient, parseQueryAnswer } from '../../../../src/operator/prometheus/client.ts';

describe('Prometheus answers', () => {
  it('reads a vector and a matrix into series with numeric samples', () => {
    const vector = parseQueryAnswer(200, JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'x', pod: 'a' }, value: [1700000000.5, '42'] }] } }));
    assert.deepEqual(vector, { ok: true, value: [{ labels: { __name__: 'x', pod: 'a' }, samples: [{ timestamp: 1700000000.5, value: 42 }] }] });
    const matrix = parseQueryAnswer(200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { pod: 'a' }, values: [[1, '1'], [2, '3']] }] } }));
    assert.deepEqual(matrix, { ok: true, value: [{ labels: { pod: 'a' }, samples: [{ timestamp: 1, value: 1 }, { timestamp: 2, value: 3 }] }] });
    assert.deepEqual(parseQueryAnswer(200, '{"status":"success","data":{"resultType":"vector","result":[]}}'), { ok: true, value: [] });
  });

  const problems: Array<[string, number, string, string, RegExp]> = [
    ['not JSON', 200, '<html>', 'bad-answer', /not JSON: <html>/],
    ['a scalar', 200, '{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}', 'bad-answer', /expected series \(a vector or matrix\), got a scalar/],
    ['a sample value that is not a string', 200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}', 'bad-answer', /data\.result\.0\.value\.1/],
    ['labels that are not strings', 200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}}', 'bad-answer', /data\.result\.0\.metric\.a/],
    ['an unknown status', 200, '{"status":"maybe"}', 'bad-answer', /not a query result: status/],
    ['a query Prometheus refused', 400, '{"status":"error","errorType":"bad_data","error":"parse error at char 3"}', 'bad-status', /refused the query \(bad_data\): parse error at char 3/],
    ['a proxy error page', 502, 'Bad Gateway', 'bad-status', /HTTP 502: Bad Gateway/],
  ];
  for (const [what, status, body, kind, message] of problems) {
    it(`answers ${kind} for ${what}`, () => {
      const result = parseQueryAnswer(status, body);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.problem.kind, kind);
      assert.match(result.problem.message, message);
    });
  }
});

describe('Prometheus client', () => {
  let server: Server;
  let received: { method?: string; url?: string; body: string }[];
  let url: string;

  before(async () => {
    received = [];
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({ method: request.method, url: request.url, body });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { pod: 'a' }, value: [5, '7'] }] } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prom/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs the query as a form to /api/v1/query under the base path', async () => {
    const result = await createPrometheusClient({ baseUrl: url }).query('x{a="b"}', 12.5);
    assert.deepEqual(result, { ok: true, value: [{ labels: { pod: 'a' }, samples: [{ timestamp: 5, value: 7 }] }] });
    assert.deepEqual(received.at(-1), { method: 'POST', url: '/prom/api/v1/query', body: 'query=x%7Ba%3D%22b%22%7D&time=12.5' });
  });

  it('answers unreachable when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await createPrometheusClient({ baseUrl: `http://127.0.0.1:${port}` }).query('up');
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.problem.kind, 'unreachable');
      assert.match(result.problem.message, new RegExp(`cannot reach Prometheus at http://127.0.0.1:${port}/api/v1/query: fetch failed: .*ECONNREFUSED`));
    }
  });
});
