/**
 * src/stun is a protocol library beneath both servers (docs/architecture.md): it imports only
 * src/lib, its own files and Node's built-in modules, never a server, the application or a package.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = resolve(HERE, '..');

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

describe('src/stun layering', () => {
  it('imports only src/lib, src/stun and node: modules', () => {
    const wrong: string[] = [];
    for (const file of files(HERE)) {
      for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        if (spec.startsWith('node:')) continue;
        const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec;
        if (!target.startsWith('stun/') && !target.startsWith('lib/')) wrong.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
