// An HTTP service that normalizes float32 tensors with local-response-norm.
//
//   node examples/server.mjs [port]      (PORT; 0, the default, picks a free port and prints it)
//   curl --data-binary @x.f32 -H 'content-type: application/octet-stream' \
//     'http://127.0.0.1:8080/?shape=1,96,55,55&preset=onnx&size=5&layout=NCHW'
//
// POST /: the body is the tensor's raw float32 bytes, little-endian; the query holds lrn's
// options (shape, comma-separated and required, then layout, preset, size, alpha, beta, k, region),
// threads for lrnAsync (default concurrency()), and mode=sync to compute with lrn on the event
// loop instead, for comparison. The response is the normalized tensor's bytes. Bad options are
// 400 with the library's message, bodies over the limit 413.
// GET /stats: the event loop's delay (ms) since the last GET /stats, and the POSTs in flight, as
// JSON.
//
// Environment: PORT, HOST (127.0.0.1), THREADS (the default threads), MAX_BODY_MB (256).
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { concurrency, lrn, lrnAsync } from 'local-response-norm';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const maxBytes = Number(process.env.MAX_BODY_MB ?? 256) * 2 ** 20;
if (!(maxBytes >= 0)) throw new RangeError(`MAX_BODY_MB must be a number of megabytes, not "${process.env.MAX_BODY_MB}"`);
if (process.env.THREADS) concurrency(Number(process.env.THREADS));

const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let inFlight = 0;

const NUMBERS = new Set(['size', 'alpha', 'beta', 'k', 'threads']);

/** An error with the HTTP status to answer it with. */
const httpError = (status, message) => Object.assign(new Error(message), { status });
const tooLarge = () => httpError(413, `the body is over the limit of ${maxBytes} bytes (MAX_BODY_MB)`);

/** lrn's options from the query, converted but not checked: the library checks them. */
function parseQuery(query) {
  const options = {};
  for (const [name, value] of query) {
    options[name] = name === 'shape' ? value.split(',').map(Number) : NUMBERS.has(name) ? Number(value) : value;
  }
  return options;
}

/** The body as one Float32Array. With a Content-Length the bytes land in an array of that size
 *  as they arrive (an oversized one is refused before any is read); without, the chunks are
 *  kept, counted against the limit, and copied once at the end. */
function readTensor(req) {
  const declared = req.headers['content-length'];
  if (Number(declared) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const bytes = declared === undefined ? undefined : new Uint8Array(Number(declared));
    const chunks = [];
    let received = 0;
    req.on('data', (chunk) => {
      if (bytes) bytes.set(chunk, received);
      else chunks.push(chunk);
      received += chunk.length;
      if (received > maxBytes) {
        req.pause(); // stop reading; the 413 closes the connection
        reject(tooLarge());
      }
    });
    req.on('error', reject);
    req.on('end', () => {
      if (received % 4 !== 0) {
        return reject(httpError(400, `expected float32 values (a multiple of 4 bytes) but received ${received} bytes`));
      }
      if (bytes) return resolve(new Float32Array(bytes.buffer));
      const tensor = new Float32Array(received / 4);
      const into = new Uint8Array(tensor.buffer);
      let at = 0;
      for (const chunk of chunks) {
        into.set(chunk, at);
        at += chunk.length;
      }
      resolve(tensor);
    });
  });
}

function reply(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function normalize(req, res, query) {
  inFlight++;
  res.on('close', () => inFlight--);
  const x = await readTensor(req);
  const { mode = 'async', ...options } = parseQuery(query);
  if (mode !== 'async' && mode !== 'sync') throw httpError(400, `expected mode=async or mode=sync but received "${mode}"`);
  // In place: the request's array is ours, and a second one would double the memory per request.
  const y = mode === 'sync' ? lrn(x, { ...options, out: x }) : await lrnAsync(x, { ...options, out: x });
  reply(res, 200, new Uint8Array(y.buffer, y.byteOffset, y.byteLength), 'application/octet-stream');
}

function stats(res) {
  // The histogram counts its timer's 1 ms interval into each delay.
  const ms = (ns) => Math.round(Math.max(0, ns / 1e6 - 1) * 100) / 100;
  const body = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), inFlight };
  loopDelay.reset();
  reply(res, 200, JSON.stringify(body), 'application/json');
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/stats') stats(res);
    else if (req.method === 'POST' && url.pathname === '/') await normalize(req, res, url.searchParams);
    else throw httpError(404, 'POST / a float32 tensor, or GET /stats');
  } catch (error) {
    if (res.destroyed) return; // the client went away
    // TypeError and RangeError are the library's answers to bad options.
    const status = error.status ?? (error instanceof TypeError || error instanceof RangeError ? 400 : 500);
    if (status === 500) console.error(error);
    // A body left unread would otherwise be read to its end to keep the connection.
    if (!req.complete) res.setHeader('connection', 'close');
    reply(res, status, `${status === 500 ? 'internal error' : error.message}\n`);
  }
});

server.listen(port, host, () => console.log(`listening on http://${host}:${server.address().port}`));
