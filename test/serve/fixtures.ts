/** Small saved models for the service tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { createModel } from '../../src/models/index.js';

/** A fresh temporary directory. */
export function tempDir(prefix = 'recsys-serve-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Two planted blocks: users u0..u19 and items i0..i29 with string ids; even users like even items, odd users
 * odd items (each user has 6 items of their block), so a fold-in of odd items leans to odd items.
 */
export function blockData(): Interactions {
  const users = IdMap.fromIds(Array.from({ length: 20 }, (_, u) => `u${u}`));
  const items = IdMap.fromIds(Array.from({ length: 30 }, (_, i) => `i${i}`));
  const ui: number[] = [];
  const ii: number[] = [];
  for (let u = 0; u < 20; u++) {
    for (let j = 0; j < 6; j++) {
      ui.push(u);
      ii.push(((u + 2 * j * 3 + j) % 15) * 2 + (u % 2));
    }
  }
  // i28 and i29 are the most popular items of each block.
  return Interactions.fromCoo({ users, items, userIdx: Int32Array.from(ui), itemIdx: Int32Array.from(ii), values: new Float32Array(ui.length).fill(1) }).interactions;
}

/** Trains `model` on {@link blockData} and saves it under a new temporary directory; returns the model directory. */
export async function savedModel(model: string, params: Record<string, unknown>, dir?: string): Promise<string> {
  const m = createModel(model, params);
  await m.fit(blockData());
  const out = join(dir ?? (await tempDir()), model);
  if (!m.save) throw new Error(`${model} cannot be saved`);
  await m.save(out);
  m.dispose?.();
  return out;
}
