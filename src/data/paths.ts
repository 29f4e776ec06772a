import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json above this module, in src/ or dist/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 6; k++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The download cache: `dataDir`, else `RECSYS_DATA_DIR`, else `~/.cache/recsys`. */
export function cacheDir(dataDir?: string): string {
  return resolve(dataDir ?? process.env.RECSYS_DATA_DIR ?? join(homedir(), '.cache', 'recsys'));
}

/** The shipped embedded data folder (data/ in the repository). */
export function embeddedDataDir(): string {
  return join(repoRoot(), 'data');
}

/**
 * Where a data set's folder may be, in lookup order: the explicit path, an explicitly given data directory
 * (`dataDir`, which the user chose and so outranks the defaults), `../shared/data/<name>/` (next to the
 * repository and next to the working directory), the cache directory `<cache>/<name>/`.
 */
export function candidateDirs(name: string, options: { path?: string; dataDir?: string } = {}): string[] {
  const dirs = [
    ...(options.path ? [resolve(options.path)] : []),
    ...(options.dataDir ? [join(resolve(options.dataDir), name)] : []),
    resolve(repoRoot(), '..', 'shared', 'data', name),
    resolve(process.cwd(), '..', 'shared', 'data', name),
    join(cacheDir(options.dataDir), name),
  ];
  return [...new Set(dirs)];
}

/**
 * Finds `file` (trying `.gz` too, and the sub-folders `subdirs`) in the first candidate folder holding it;
 * null when none does.
 */
export function findFile(dirs: readonly string[], file: string, subdirs: readonly string[] = []): string | null {
  for (const d of dirs) {
    for (const sub of ['', ...subdirs]) {
      for (const f of [file, `${file}.gz`]) {
        const p = join(d, sub, f);
        if (existsSync(p)) return p;
      }
    }
  }
  return null;
}

/** A data set's required file is in none of the folders looked in (callers may fall back to another set). */
export class DatasetNotFoundError extends Error {
  constructor(readonly dataset: string, readonly file: string, readonly dirs: readonly string[], message: string) {
    super(message);
    this.name = 'DatasetNotFoundError';
  }
}

/** Error for a data set whose files were not found, naming the file and where to put it. */
export function missingDataError(name: string, file: string, dirs: readonly string[], hint = ''): DatasetNotFoundError {
  return new DatasetNotFoundError(
    name,
    file,
    dirs,
    `data set "${name}": ${file} not found. Looked in:\n${dirs.map((d) => `  ${d}`).join('\n')}\n` +
      `Put ${file} in one of these folders (or pass --data-dir / RECSYS_DATA_DIR), or run \`recsys datasets download ${name}\`.${hint ? ` ${hint}` : ''}`,
  );
}
