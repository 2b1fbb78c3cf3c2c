#!/usr/bin/env node
// Builds Parley's web pages into dist/web/: each page's TypeScript entry bundled by esbuild
// (JsSIP included, no CDN), with its HTML and CSS copied beside it. Run by `npm run build`.
//   web/phone/{index.html, phone.css, phone.ts}  ->  dist/web/phone/{index.html, phone.css, phone.js}
//   web/ice/{index.html, ice.css, ice.ts}        ->  dist/web/ice/{index.html, ice.css, ice.js}
//   web/dashboard/{index.html, dashboard.css, dashboard.ts} (+ uPlot's stylesheet)  ->  dist/web/dashboard/
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pages = [
  { name: 'phone', entry: 'phone.ts', assets: ['index.html', 'phone.css'] },
  // the ICE check page: no JsSIP, its own small bundle
  { name: 'ice', entry: 'ice.ts', assets: ['index.html', 'ice.css'] },
  // the operator's dashboard: uPlot for the charts (its stylesheet copied from the package)
  { name: 'dashboard', entry: 'dashboard.ts', assets: ['index.html', 'dashboard.css'], packageAssets: ['uplot/dist/uPlot.min.css'] },
];

for (const page of pages) {
  const src = join(root, 'web', page.name);
  const out = join(root, 'dist', 'web', page.name);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: [join(src, page.entry)],
    outfile: join(out, page.entry.replace(/\.ts$/, '.js')),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // browsers with WebRTC, Unified Plan and ES2020 (Chromium, Firefox, Safari of the last years)
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    // JsSIP's `debug` reads process.env in Node; in the browser it uses localStorage
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  for (const a of page.assets) await copyFile(join(src, a), join(out, a));
  for (const a of page.packageAssets ?? []) await copyFile(join(root, 'node_modules', a), join(out, a.slice(a.lastIndexOf('/') + 1)));
  console.log(`web: ${page.name} -> ${out.slice(root.length + 1)}`);
}
