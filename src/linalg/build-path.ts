import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Path of a file the install step compiled into build/ (kernels.wasm, recsys_native.node…), found from this
 * module whether it runs from src/ or dist/src/; undefined when it has not been built.
 */
export function buildPath(file: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, 'build', file);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}
