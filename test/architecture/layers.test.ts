import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The layers of docs/architecture.md, bottom first: a module may import only from its own layer or below. */
const LAYERS: Record<string, number> = { core: 0, data: 1, linalg: 1, nn: 2, models: 3, eval: 4, report: 5, pipeline: 6, spark: 6, sparkjob: 1, serve: 7, cli: 8 };

const src = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string | null {
  const top = relative(src, file).split(sep)[0];
  return top in LAYERS ? top : null;
}

/** Relative imports of `file` resolved to files, with the line they are on. */
function imports(file: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) out.push({ target: resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'), line: i + 1 });
  });
  return out;
}

describe('architecture', () => {
  const all = files(src);

  it('every top folder of src/ has a layer', () => {
    const tops = new Set(all.map((f) => relative(src, f).split(sep)[0]).filter((t) => !t.endsWith('.ts')));
    expect([...tops].filter((t) => !(t in LAYERS))).toEqual([]);
  });

  it('arrows point only downward: no module imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const f of all) {
      const from = layerOf(f);
      if (from === null) continue;
      for (const { target, line } of imports(f)) {
        const to = layerOf(target);
        if (to !== null && LAYERS[to] > LAYERS[from]) upward.push(`${relative(src, f)}:${line} (${from}) imports ${relative(src, target)} (${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no import cycle between modules', () => {
    const graph = new Map(all.map((f) => [f, imports(f).map((i) => i.target).filter((t) => t !== f)]));
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      state.set(f, 1);
      for (const t of graph.get(f) ?? []) {
        if (!graph.has(t)) continue;
        if (state.get(t) === 1) cycles.push([...path.slice(path.indexOf(t)), t].map((p) => relative(src, p)).join(' → '));
        else if (!state.has(t)) visit(t, [...path, t]);
      }
      state.set(f, 2);
    };
    for (const f of all) if (!state.has(f)) visit(f, [f]);
    expect(cycles).toEqual([]);
  });
});
