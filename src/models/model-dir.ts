/**
 * Telling a saved model directory from anything else, for the output-directory guard
 * (`writeDirAtomic`/`checkOutputDir` in core/safe-write.ts): a directory is a model when its manifest is a
 * regular file holding JSON with a `modelType` (optionally one of the known types) and an `arrays` list.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The entries of the model directory `dir` that belong to the model (its manifest and the array files the
 * manifest lists), or null when `dir` holds no readable manifest, one whose model type `isKnownType`
 * rejects, or one without an array list.
 */
export function modelDirEntries(dir: string, manifestFile: string, isKnownType: (modelType: string) => boolean = () => true): string[] | null {
  const path = join(dir, manifestFile);
  let m: unknown;
  try {
    if (!lstatSync(path).isFile()) return null; // never read a FIFO or device: it could block
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || !('modelType' in m) || !('arrays' in m)) return null;
  const { modelType, arrays } = m;
  if (typeof modelType !== 'string' || !isKnownType(modelType) || !Array.isArray(arrays)) return null;
  const files: string[] = [];
  for (const a of arrays as unknown[]) {
    const file = typeof a === 'object' && a !== null && 'file' in a ? a.file : undefined;
    if (typeof file === 'string' && /^[A-Za-z0-9_.-]+$/.test(file) && file !== '.' && file !== '..') files.push(file);
  }
  return [manifestFile, ...files];
}
