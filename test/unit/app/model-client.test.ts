// The client's retry and error mapping, with a stand-in transport (a unit test of one function), and
// the real transport against a plain local HTTP server for what the model service never does
// (test/integration/app-api.test.ts shows retry and errors against the real model service).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createModelClient, httpTransport, isConnectionError, ModelResponseError, ModelUnavailableError } from '../../../src/app/model-client.ts';

interface Answer {
  status: number;
  body: string;
}

function connectionError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.7:8081`), { code });
}

function clientWith(answers: Array<Answer | Error>) {
  let calls = 0;
  let sent = 0;
  const client = createModelClient({
    baseUrl: 'http://model:8081',
    timeoutMs: 1_000,
    onCall: () => calls++,
    transport: () => {
      const next = answers[sent++];
      if (next === undefined) throw new Error('no more answers');
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  });
  return { client, calls: () => calls };
}

const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body) });
const prediction = { result: 'spam', spamProbability: 0.98, modelVersion: 'v1', classifier: 'naive-bayes' };

describe('model client', () => {
  it('tells connection errors from the rest', () => {
    assert.equal(isConnectionError(connectionError('ECONNREFUSED')), true);
    assert.equal(isConnectionError(connectionError('ECONNRESET')), true);
    assert.equal(isConnectionError(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })), true, 'a code in the cause counts');
    assert.equal(isConnectionError(Object.assign(new Error('The operation was aborted'), { code: 'ABORT_ERR' })), false);
    assert.equal(isConnectionError(new Error('boom')), false);
  });

  it('returns the prediction', async () => {
    const { client, calls } = clientWith([json(200, prediction)]);
    assert.deepEqual(await client.predict('WIN'), prediction);
    assert.equal(calls(), 1);
  });

  it('retries a connection error once', async () => {
    const { client, calls } = clientWith([connectionError('ECONNRESET'), json(200, prediction)]);
    assert.deepEqual(await client.predict('WIN'), prediction);
    assert.equal(calls(), 2);
  });

  it('gives up after the one retry', async () => {
    const { client, calls } = clientWith([connectionError('ECONNREFUSED'), connectionError('ECONNREFUSED'), json(200, prediction)]);
    await assert.rejects(client.predict('WIN'), (error: unknown) => error instanceof ModelUnavailableError && error.message === 'the model service is unavailable: it refused the connection');
    assert.equal(calls(), 2);
  });

  it('tells the caller what went wrong without the model address, and retries no other error', async () => {
    const unresolved = clientWith([connectionError('ENOTFOUND'), connectionError('ENOTFOUND')]);
    await assert.rejects(unresolved.client.predict('WIN'), { message: 'the model service is unavailable: its host name could not be resolved' });
    const other = clientWith([new Error('certificate has expired'), json(200, prediction)]);
    await assert.rejects(other.client.predict('WIN'), { message: 'the model service is unavailable: the call failed' });
    assert.equal(other.calls(), 1);
  });

  it('does not retry a 503 from the model', async () => {
    const { client, calls } = clientWith([json(503, { error: 'no model loaded' }), json(200, prediction)]);
    await assert.rejects(client.predict('WIN'), /the model service is unavailable: it answered 503/);
    assert.equal(calls(), 1);
  });

  it('passes on the model refusing a message', async () => {
    const { client } = clientWith([json(413, { error: 'body too large' })]);
    await assert.rejects(client.predict('WIN'), (error: unknown) => error instanceof ModelResponseError && error.status === 413 && /refused the message: body too large/.test(error.message));
  });

  it('refuses an answer that breaks the contract', async () => {
    const { client } = clientWith([json(200, { result: 'maybe', spamProbability: 2 })]);
    await assert.rejects(client.predict('WIN'), (error: unknown) => error instanceof ModelResponseError && error.status === undefined && /result: .*spamProbability: .*modelVersion: /.test(error.message));
  });

  it('refuses a body that is not JSON', async () => {
    const { client } = clientWith([{ status: 200, body: '<html>' }]);
    await assert.rejects(client.predict('WIN'), /answered 200 with a body that is not JSON/);
  });
});

describe('httpTransport', () => {
  let server: Server;
  let baseUrl: string;
  let received: { method?: string; contentType?: string; body: string } = { body: '' };

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received = { method: request.method, contentType: request.headers['content-type'], body };
        if (request.url === '/huge') {
          response.end(Buffer.alloc(2 * 1024 * 1024, 'x'));
        } else if (request.url === '/cut') {
          response.writeHead(200, { 'content-length': '100' });
          response.write('{"result":');
          setTimeout(() => response.socket?.destroy(), 20);
        } else {
          response.end('{"ok":true}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = (path: string) => httpTransport()({ url: new URL(`${baseUrl}${path}`), method: 'POST', body: '{"sms":"hi"}', signal: AbortSignal.timeout(5_000) });

  it('sends a JSON body and returns status and body', async () => {
    assert.deepEqual(await send('/predict'), { status: 200, body: '{"ok":true}' });
    assert.deepEqual(received, { method: 'POST', contentType: 'application/json', body: '{"sms":"hi"}' });
  });

  it('refuses an answer over 1 MB', async () => {
    await assert.rejects(send('/huge'), /the answer is larger than 1048576 bytes/);
  });

  it('rejects an answer cut off half-way', async () => {
    await assert.rejects(send('/cut'));
  });
});
