// The kernel layer's boundary: callers outside src/linalg reach numerics only through a Kernels object. None
// imports the reference implementation (or its helpers) and none picks a fallback for a missing kernel method.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceKernels } from '../../src/linalg/reference.js';

const root = join(import.meta.dirname, '../..');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const outside = sources(join(root, 'src')).filter((f) => !relative(root, f).startsWith(join('src', 'linalg')));
// close and free are left out: other objects have methods of those names.
const methods = Object.getOwnPropertyNames(ReferenceKernels.prototype).filter((m) => !['constructor', 'close', 'free'].includes(m));

describe('kernel layer boundary', () => {
  it('no module outside src/linalg imports linalg/reference.js', () => {
    const offenders = outside.filter((f) => /from '[./]*linalg\/reference\.js'/.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('no module outside src/linalg tests whether a kernel method exists', () => {
    const names = methods.join('|');
    // A kernel method named but not called (`k.tanh ? …`, `!k.tanh`, `k.tanh?.(…)`, `k.tanh!`, `k.tanh.bind`),
    // on a kernels-like receiver: a state field that shares a method's name (`state.gram ??= …`) is not a probe.
    const probe = new RegExp(`(?<!\\bstate)\\.(${names})\\b(?!\\s*\\()`);
    const offenders: string[] = [];
    for (const f of outside) {
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\*|\/\*|\/\/)/.test(line)) return;
          if (probe.test(line)) offenders.push(`${relative(root, f)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
