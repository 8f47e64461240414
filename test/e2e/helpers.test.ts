// The kind part's own machinery, checked where it can be without Docker: the kind cluster config
// mounts the model folder where the pods expect it, and the traffic client really sends the Host
// header and cookie the gateway routes on (against a local HTTP server).
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { z } from 'zod';
import { DEFAULT_MODEL_HOST_PATH } from '../../src/crd/schema.ts';
import { kindConfig, NODE_MODELS_PATH } from './kind.ts';
import { assignedCookie, postSms, sendMany } from './traffic.ts';

describe('e2e helpers', () => {
  describe('kindConfig', () => {
    it('mounts the host model folder read-only at the CRD’s default model path on every node', () => {
      assert.equal(NODE_MODELS_PATH, DEFAULT_MODEL_HOST_PATH);
      const config = z
        .object({
          kind: z.literal('Cluster'),
          apiVersion: z.literal('kind.x-k8s.io/v1alpha4'),
          nodes: z.array(z.object({ role: z.string(), extraMounts: z.array(z.object({ hostPath: z.string(), containerPath: z.string(), readOnly: z.boolean() })) })),
        })
        .parse(parse(kindConfig('/srv/sms-models')));
      assert.deepEqual(config.nodes.map((node) => node.role), ['control-plane', 'worker']);
      for (const node of config.nodes) assert.deepEqual(node.extraMounts, [{ hostPath: '/srv/sms-models', containerPath: '/mnt/shared/models', readOnly: true }]);
    });
  });

  describe('traffic client', () => {
    let server: Server;
    let port: number;
    const seen: IncomingHttpHeaders[] = [];

    before(async () => {
      // Answers like the app would, as the version named by the cookie, and sets the cookie the way
      // the gateway's weighted route does.
      server = createServer((request, response) => {
        seen.push(request.headers);
        const version = /sms-app-version=(v\d)/.exec(request.headers.cookie ?? '')?.[1] ?? 'v1';
        response.setHeader('set-cookie', [`sms-app-version=${version}; Max-Age=3600; Path=/`, 'other=1']);
        response.setHeader('content-type', 'application/json');
        if (request.headers.host?.startsWith('broken')) {
          response.statusCode = 503;
          response.end('{"error":"model service unavailable"}');
          return;
        }
        response.end(JSON.stringify({ result: 'ham', spamProbability: 0.01, modelVersion: version, appVersion: version, cached: false }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    after(() => {
      server.close();
    });

    it('sends the Host header and cookie it is given, and reads the assigned cookie', async () => {
      const answered = await postSms({ port, host: 'canary.sms-app.local', cookie: 'sms-app-version=v2' }, 'hello');
      assert.equal(seen.at(-1)?.host, 'canary.sms-app.local');
      assert.equal(seen.at(-1)?.cookie, 'sms-app-version=v2');
      assert.equal(answered.answer.appVersion, 'v2');
      assert.equal(assignedCookie(answered, 'sms-app-version'), 'sms-app-version=v2');
      assert.equal(assignedCookie(answered, 'absent'), undefined);
    });

    it('sends many requests, each with a new message', async () => {
      const before = seen.length;
      const answers = await sendMany({ port, host: 'sms-app.local' }, 20, 4);
      assert.equal(answers.length, 20);
      assert.equal(seen.length - before, 20);
    });

    it('fails with the status and body of an error answer', async () => {
      await assert.rejects(postSms({ port, host: 'broken.local' }, 'hello'), /HTTP 503: \{"error":"model service unavailable"\}/);
    });
  });
});
