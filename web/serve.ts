import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb, DEFAULT_WEB_DIR } from './build.ts';

// `npm run web`: builds the page and serves its folder on localhost (WebGPU
// needs a secure context, which localhost is). Any static host serves the
// folder as well; this only saves installing one.
// Usage: npx tsx web/serve.ts [PORT]   (default 8080)

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.gz': 'application/gzip',
  '.csv': 'text/csv',
  '.png': 'image/png',
};

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the files under `dir` (and nothing outside it) on 127.0.0.1; port 0 picks a free one. */
export function serveDir(dir: string, port = 0): Promise<Served> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    let size = -1;
    try {
      const s = statSync(file);
      if (s.isFile()) size = s.size;
    } catch {
      // Missing: a 404 below.
    }
    if (!(file === root || file.startsWith(root + sep)) || size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const p = typeof address === 'object' && address !== null ? address.port : port;
      ok({ url: `http://localhost:${p}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`web: port must be 0..65535, got ${process.argv[2]}`);
  const built = await buildWeb(DEFAULT_WEB_DIR);
  const served = await serveDir(built.dir, port);
  process.stderr.write(`web: serving ${built.dir} at ${served.url} (Ctrl-C stops)\n`);
}
