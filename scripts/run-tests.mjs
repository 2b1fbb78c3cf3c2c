#!/usr/bin/env node
// Runs Parley's tests with Node's test runner. Node 20 does not expand globs for --test, so the
// files are listed here; finding no test file is a failure, never a silent pass.
//   node scripts/run-tests.mjs                 unit + integration tests (src/**, test/integration/**)
//   node scripts/run-tests.mjs test/interop     the interop suites (need sipp and friends)
//   node scripts/run-tests.mjs test/interop/ws.test.ts   one file (or several)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const dirs = roots.length > 0 ? roots : ['src', 'test/integration'];

function walk(dir, out) {
  if (dir.endsWith('.test.ts')) {
    // a test file named on the command line: run just it (it must exist)
    try {
      if (statSync(dir).isFile()) out.push(dir);
    } catch {
      /* missing: "no test files found" below */
    }
    return out;
  }
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'testdata') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = dirs.flatMap((d) => walk(d, [])).sort();
if (files.length === 0) {
  console.error(`no test files found under ${dirs.join(', ')}`);
  process.exit(1);
}
const reporter = process.env.CI ? ['--test-reporter=spec'] : [];
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporter, ...passthrough, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
