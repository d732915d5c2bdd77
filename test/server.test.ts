// examples/server.mjs in a child process, over HTTP: the exact bytes of lrn in each mode, the
// library's own messages for bad requests, 413 before an oversized body is read, and a server
// that still answers after all of it. Needs dist/ (npm run compile): the example imports the
// package by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lrn, lrnAsync } from '../lib/index.js';

const LIMIT = 2 ** 20; // MAX_BODY_MB=1
// Two batch items of 64K elements: lrnAsync splits it across two threads.
const shape = [2, 16, 64, 64];
const x = Float32Array.from({ length: 2 * 16 * 64 * 64 }, (_, i) => Math.sin(i) * 3);
const bytes = new Uint8Array(x.buffer);
const params = { preset: 'onnx', size: 4, alpha: 0.5, beta: 0.6, k: 1.5, layout: 'NCHW' } as const;
const query = Object.entries({ shape, ...params }).map(([name, value]) => `${name}=${value}`).join('&');
const expected = Buffer.from(lrn(x, { shape, ...params }).buffer);

let server: ChildProcess;
let port = 0;

interface Reply { status: number; headers: Record<string, unknown>; body: Buffer; text: string }

/** One request: `body` with its Content-Length, `chunks` chunked, or `open` headers only (the
 *  request is never ended; it is destroyed once the reply is in). */
function send(path: string, how: { body?: Uint8Array; chunks?: Uint8Array[]; open?: number; method?: string } = {}): Promise<Reply> {
  const headers: Record<string, number | string> = { 'content-type': 'application/octet-stream' };
  if (how.body) headers['content-length'] = how.body.length;
  if (how.open !== undefined) headers['content-length'] = how.open;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: how.method ?? 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (how.open !== undefined) return void req.flushHeaders();
    for (const chunk of how.chunks ?? []) req.write(chunk);
    req.end(how.body);
  });
}

/** The message lrn or lrnAsync gives for these options, as the server's 400 body. */
async function message(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    return `${(error as Error).message}\n`;
  }
  throw new Error('the call succeeded');
}

beforeAll(async () => {
  server = spawn(process.execPath, [join(__dirname, '..', 'examples', 'server.mjs'), '0'], {
    env: { ...process.env, HOST: '127.0.0.1', THREADS: '', MAX_BODY_MB: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  port = await new Promise<number>((resolve, reject) => {
    server.stdout!.once('data', (line: Buffer) => resolve(Number(/:(\d+)\s*$/.exec(line.toString())?.[1])));
    server.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
});

afterAll(() => {
  server.kill();
});

describe('examples/server.mjs', () => {
  it.each([
    ['lrn (mode=sync)', '&mode=sync'],
    ['lrnAsync, 1 thread', '&threads=1'],
    ['lrnAsync, 2 threads', '&threads=2'],
    ['lrnAsync, concurrency() threads', ''],
  ])('%s returns the bytes lrn computes', async (_, extra) => {
    const reply = await send(`/?${query}${extra}`, { body: bytes });
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    expect(reply.body.equals(expected)).toBe(true);
  });

  it('reads a chunked body (no Content-Length) the same', async () => {
    const chunks = [bytes.subarray(0, 1001), bytes.subarray(1001, 300_000), bytes.subarray(300_000)];
    const reply = await send(`/?${query}`, { chunks });
    expect(reply.status).toBe(200);
    expect(reply.body.equals(expected)).toBe(true);
  });

  it('answers bad options with 400 and the library\'s message', async () => {
    const cases: Array<[string, string]> = [
      ['/?preset=onnx', await message(() => lrnAsync(x, { preset: 'onnx' } as never))],
      [`/?shape=${shape.join(',')}&preset=keras`, await message(() => lrnAsync(x, { shape, preset: 'keras' } as never))],
      ['/?shape=1,16,64,64', await message(() => lrnAsync(x, { shape: [1, 16, 64, 64] }))],
      [`/?shape=${shape.join(',')}&threads=0`, await message(() => lrnAsync(x, { shape, threads: 0 }))],
      [`/?shape=${shape.join(',')}&size=0&mode=sync`, await message(() => lrn(x, { shape, size: 0 }))],
      [`/?shape=${shape.join(',')}&color=red`, await message(() => lrnAsync(x, { shape, color: 'red' } as never))],
    ];
    for (const [path, text] of cases) {
      expect(await send(path, { body: bytes })).toMatchObject({ status: 400, text });
    }
  });

  it('answers a body that is not whole float32 values, or not the shape\'s, with 400', async () => {
    expect(await send('/?shape=1,2', { body: new Uint8Array(10) })).toMatchObject({
      status: 400, text: 'expected float32 values (a multiple of 4 bytes) but received 10 bytes\n',
    });
    expect(await send('/?shape=1,2', { chunks: [new Uint8Array(3), new Uint8Array(4)] })).toMatchObject({ status: 400 });
    const reply = await send('/?shape=1,3', { body: new Uint8Array(8) });
    expect(reply).toMatchObject({ status: 400, text: await message(() => lrnAsync(new Float32Array(2), { shape: [1, 3] })) });
  });

  it('answers an oversized Content-Length with 413 before the body is sent, and closes', async () => {
    const reply = await send(`/?${query}`, { open: LIMIT + 4 });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
  });

  it('survives a client that leaves mid-body', async () => {
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: `/?${query}`, method: 'POST', headers: { 'content-length': bytes.length } });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, 1000), () => setTimeout(() => req.destroy(), 20));
      req.on('close', () => resolve());
    });
  });

  it('still answers afterwards, and reports its event loop delay', async () => {
    const reply = await send(`/?${query}`, { body: bytes });
    expect(reply.body.equals(expected)).toBe(true);
    const stats = await send('/stats', { method: 'GET' });
    expect(JSON.parse(stats.text)).toEqual({
      p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number), inFlight: expect.any(Number),
    });
    expect(server.exitCode).toBe(null);
  });
});
