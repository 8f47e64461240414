// Reading /predict's body and headers within limits. Under @hono/node-server they come from Node's
// request directly: going through the web Request (a Headers object, a ReadableStream, as Hono's
// bodyLimit and c.req.text() do) cost more than half of the service's throughput. In process
// (app.request() in tests) the web Request is all there is, and is used instead.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** What @hono/node-server passes as c.env; absent under app.request(). */
export type NodeEnv = { Bindings: { incoming?: IncomingMessage } };

export function requestHeader(c: Context<NodeEnv>, name: 'content-length' | 'content-type' | 'host'): string | undefined {
  const incoming = c.env?.incoming;
  return incoming ? incoming.headers[name] : c.req.header(name);
}

function readIncomingWithin(incoming: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop keeping the body but let it drain, so the 413 still reaches the client.
        incoming.off('data', onData);
        incoming.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    incoming.on('data', onData);
    incoming.once('end', () => {
      ended = true;
      resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    incoming.once('error', reject);
    incoming.once('close', () => {
      if (!ended) reject(new Error('client closed the connection before sending the whole body'));
    });
  });
}

async function readStreamWithin(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<string | undefined> {
  if (stream === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The body as UTF-8 text, or undefined when it is larger than `limit` bytes: refused at once when
 * Content-Length says so, otherwise counted while reading and abandoned as soon as it passes.
 */
export function readBodyWithin(c: Context<NodeEnv>, limit: number): Promise<string | undefined> {
  const declared = requestHeader(c, 'content-length');
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve(undefined);
  const incoming = c.env?.incoming;
  return incoming ? readIncomingWithin(incoming, limit) : readStreamWithin(c.req.raw.body, limit);
}
