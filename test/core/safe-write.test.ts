/**
 * The safe writer (src/core/safe-write.ts) on every kind of bad target. Each case hashes the surrounding tree
 * before and after: a refusal changes nothing at all, a write changes only its output, and no temporary file
 * is left behind.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { appendFileSafe, checkOutputDir, checkOutputFile, writeDirAtomic, writeFileSafe, type OutputDirOptions } from '../../src/core/safe-write.js';
import { leftovers, mkfifo, treeHash, treeHashExcept, unixSocket, unprivileged } from './tree.js';

const base = mkdtempSync(join(tmpdir(), 'recsys-safe-write-'));
afterAll(() => {
  chmodSync(base, 0o755);
  rmSync(base, { recursive: true, force: true });
});
let root = '';
let n = 0;
beforeEach(() => {
  root = join(base, `case-${n++}`);
  mkdirSync(root);
  writeFileSync(join(root, 'data.csv'), 'user,item\n1,2\n');
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs', 'notes.txt'), 'keep me\n');
});

/** Runs `f`, expecting a UsageError whose message matches `pattern`, and checks the tree did not change. */
function refuses(f: () => unknown, pattern: RegExp): void {
  const before = treeHash(root);
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as Error).message).toMatch(pattern);
  expect(treeHash(root)).toEqual(before);
}

async function refusesAsync(f: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const before = treeHash(root);
  const caught = await f().then(() => null, (e: unknown) => e);
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as Error).message).toMatch(pattern);
  expect(treeHash(root)).toEqual(before);
}

describe('writeFileSafe', () => {
  it('creates missing directories, writes the content, changes nothing else and leaves no temporary file', () => {
    const before = treeHash(root);
    const out = join(root, 'out', 'deep', 'r.html');
    expect(writeFileSafe(out, '<p>x</p>')).toBe(out);
    expect(readFileSync(out, 'utf8')).toBe('<p>x</p>');
    expect(treeHashExcept(root, 'out')).toEqual(before);
    expect(leftovers(root)).toEqual([]);
  });

  it('replaces an existing file atomically and keeps its permission bits', () => {
    const out = join(root, 'r.html');
    writeFileSync(out, 'old');
    chmodSync(out, 0o640);
    writeFileSafe(out, 'new');
    expect(readFileSync(out, 'utf8')).toBe('new');
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(leftovers(root)).toEqual([]);
  });

  it('writes through a symbolic link to its target and keeps the link (also a dangling one)', () => {
    mkdirSync(join(root, 'real'));
    writeFileSync(join(root, 'real', 'r.html'), 'old');
    symlinkSync(join(root, 'real', 'r.html'), join(root, 'link.html'));
    writeFileSafe(join(root, 'link.html'), 'new');
    expect(lstatSync(join(root, 'link.html')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(root, 'real', 'r.html'), 'utf8')).toBe('new');
    symlinkSync('real/missing.html', join(root, 'dangling.html'));
    writeFileSafe(join(root, 'dangling.html'), 'fresh');
    expect(readlinkSync(join(root, 'dangling.html'))).toBe('real/missing.html');
    expect(readFileSync(join(root, 'real', 'missing.html'), 'utf8')).toBe('fresh');
    expect(leftovers(root)).toEqual([]);
  });

  it('refuses a FIFO, a character device, a socket and a link to a FIFO, naming the path and what it is', async () => {
    mkfifo(join(root, 'pipe'));
    refuses(() => writeFileSafe(join(root, 'pipe'), 'x'), /pipe: it is a FIFO \(named pipe\), not a regular file/);
    refuses(() => appendFileSafe(join(root, 'pipe'), 'x'), /pipe: it is a FIFO/);
    symlinkSync('pipe', join(root, 'to-pipe'));
    refuses(() => writeFileSafe(join(root, 'to-pipe'), 'x'), /to-pipe \(a symbolic link to .*pipe\): it is a FIFO/);
    refuses(() => writeFileSafe('/dev/null', 'x', { what: 'report' }), /refusing to write the report \/dev\/null: it is a character device/);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    // /dev/stdout → /proc/self/fd/1 → whatever stdout is: never replaced by a rename (that would cut off the shell's redirection).
    refuses(() => writeFileSafe('/dev/stdout', 'x'), /refusing to write \/dev\/stdout: it leads to \/proc\/self\/fd\/1 in \/proc/);
    const server = await unixSocket(join(root, 'sock'));
    try {
      refuses(() => writeFileSafe(join(root, 'sock'), 'x'), /sock: it is a socket/);
    } finally {
      server.close();
    }
  });

  it('refuses a directory given as a file (empty or not) with a sentence, leaving no temporary file', () => {
    mkdirSync(join(root, 'empty'));
    refuses(() => writeFileSafe(join(root, 'docs'), 'x', { what: 'report' }), /cannot write the report .*docs: it is a directory, not a file/);
    refuses(() => writeFileSafe(join(root, 'empty'), 'x'), /empty: it is a directory/);
    refuses(() => appendFileSafe(join(root, 'docs'), 'x'), /docs: it is a directory/);
  });

  it('refuses a path under a regular file or a dangling link before creating anything', () => {
    refuses(() => writeFileSafe(join(root, 'data.csv', 'sub', 'r.html'), 'x'), /cannot write the output .*data\.csv\/sub\/r\.html: .*data\.csv is a regular file, not a directory/);
    symlinkSync('nowhere', join(root, 'gone'));
    refuses(() => writeFileSafe(join(root, 'gone', 'r.html'), 'x'), /gone is a symbolic link to nowhere, which does not exist/);
  });

  it('refuses /proc and /sys at once instead of looping in mkdir -p (checked in a child process with a timeout)', () => {
    const script = `
      import { writeFileSafe, appendFileSafe, writeDirAtomic } from './src/core/safe-write.ts';
      const out = [];
      for (const f of [() => writeFileSafe('/proc/nope/x.html', 'x'), () => appendFileSafe('/sys/nope/r.jsonl', 'x'), () => writeFileSafe('/proc/x.html', 'x')]) {
        try { f(); out.push('written'); } catch (e) { out.push(e.name + ': ' + e.message); }
      }
      try { await writeDirAtomic('/proc/nope/model', async () => {}, { recognize: () => null }); out.push('written'); } catch (e) { out.push(e.name + ': ' + e.message); }
      console.log(JSON.stringify(out));`;
    const t0 = Date.now();
    const text = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..', '..'), timeout: 20_000, encoding: 'utf8' });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const lines = JSON.parse(text) as string[];
    expect(lines[0]).toMatch(/^UsageError: cannot write the output \/proc\/nope\/x\.html: it lies in \/proc, a kernel pseudo file system where files cannot be created/);
    expect(lines[1]).toMatch(/^UsageError: .*\/sys\/nope\/r\.jsonl: it lies in \/sys,/);
    expect(lines[2]).toMatch(/^UsageError: .*\/proc\/x\.html: it lies in \/proc,/);
    expect(lines[3]).toMatch(/^UsageError: .*\/proc\/nope\/model: it lies in \/proc,/);
    expect(statSync('/proc/nope', { throwIfNoEntry: false })).toBeUndefined();
  });

  it.skipIf(!unprivileged)('turns EACCES in an unwritable directory into a sentence and removes what it made (run as a user permission bits bind)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-eacces-'));
    try {
      chmodSync(dir, 0o777);
      mkdirSync(join(dir, 'locked'), { mode: 0o555 });
      chmodSync(join(dir, 'locked'), 0o555);
      const script = `
        import { writeFileSafe, appendFileSafe, writeDirAtomic } from './src/core/safe-write.ts';
        const d = ${JSON.stringify(join(dir, 'locked'))};
        const out = [];
        for (const f of [() => writeFileSafe(d + '/a/r.html', 'x'), () => writeFileSafe(d + '/r.html', 'x'), () => appendFileSafe(d + '/r.jsonl', 'x')]) {
          try { f(); out.push('written'); } catch (e) { out.push(e.name + ': ' + e.message); }
        }
        try { await writeDirAtomic(d + '/m', async () => {}, { recognize: () => null }); out.push('written'); } catch (e) { out.push(e.name + ': ' + e.message); }
        console.log(JSON.stringify(out));`;
      const lines = JSON.parse(unprivileged!(script)) as string[];
      expect(lines[0]).toMatch(/^UsageError: cannot write the output .*locked\/a\/r\.html: cannot create the directory .*locked\/a: permission denied \(EACCES\)$/);
      expect(lines[1]).toMatch(/^UsageError: cannot write the output .*locked\/r\.html: cannot create a temporary file in .*locked: permission denied \(EACCES\)$/);
      expect(lines[2]).toMatch(/^UsageError: cannot append to the output .*locked\/r\.jsonl: permission denied \(EACCES\)$/);
      expect(lines[3]).toMatch(/^UsageError: cannot write the output directory .*locked\/m: cannot create a temporary directory in .*locked: permission denied/);
      expect(treeHash(dir)).toEqual({ locked: 'dir 555' });
    } finally {
      chmodSync(join(dir, 'locked'), 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an input of the run: the same path, a link to it, a hard link to it, or a path that leads to it', () => {
    const data = join(root, 'data.csv');
    refuses(() => writeFileSafe(data, 'x', { inputs: [data], what: 'report' }), /refusing to write the report .*data\.csv: it is .*data\.csv, an input of this run/);
    symlinkSync('data.csv', join(root, 'alias.csv'));
    refuses(() => writeFileSafe(join(root, 'alias.csv'), 'x', { inputs: [data] }), /an input of this run/);
    linkSync(data, join(root, 'hard.csv'));
    refuses(() => appendFileSafe(join(root, 'hard.csv'), 'x', { inputs: [data] }), /an input of this run/);
    refuses(() => writeFileSafe(join(root, 'docs', '..', 'data.csv'), 'x', { inputs: ['./relative-does-not-matter', data] }), /an input of this run/);
    expect(() => writeFileSafe(join(root, 'other.csv'), 'x', { inputs: [data, undefined] })).not.toThrow();
  });

  it('checkOutputFile creates nothing and returns the path that will be written', () => {
    const before = treeHash(root);
    symlinkSync(join(root, 'docs', 'r.html'), join(root, 'l.html'));
    expect(checkOutputFile(join(root, 'l.html'))).toBe(join(root, 'docs', 'r.html'));
    expect(checkOutputFile(join(root, 'new', 'deeper', 'r.html'))).toBe(join(root, 'new', 'deeper', 'r.html'));
    expect(treeHashExcept(root, 'l.html')).toEqual(before);
  });
});

describe('appendFileSafe', () => {
  it('appends to a file (through a link), creating it and its directories when missing', () => {
    const p = join(root, 'out', 'trials.jsonl');
    appendFileSafe(p, 'a\n');
    appendFileSafe(p, 'b\n');
    symlinkSync(p, join(root, 'link.jsonl'));
    appendFileSafe(join(root, 'link.jsonl'), 'c\n');
    expect(readFileSync(p, 'utf8')).toBe('a\nb\nc\n');
    expect(lstatSync(join(root, 'link.jsonl')).isSymbolicLink()).toBe(true);
  });
});

describe('writeDirAtomic and checkOutputDir', () => {
  // A toy format: a directory is "ours" when it has OURS listing its files.
  const recognize = (dir: string): string[] | null => {
    try {
      return ['OURS', ...readFileSync(join(dir, 'OURS'), 'utf8').split('\n').filter(Boolean)];
    } catch {
      return null;
    }
  };
  const opts = (extra: Partial<OutputDirOptions> = {}): OutputDirOptions => ({ what: 'model directory', recognize, marker: 'no OURS file', forceHint: 'pass --force to replace it', ...extra });
  const fill = (files: Record<string, string>) => async (dir: string): Promise<void> => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    writeFileSync(join(dir, 'OURS'), Object.keys(files).join('\n'));
  };

  it('writes a new directory (missing parents made), and into an empty directory', async () => {
    const before = treeHash(root);
    await writeDirAtomic(join(root, 'models', 'm'), fill({ 'a.bin': 'A' }), opts());
    expect(readFileSync(join(root, 'models', 'm', 'a.bin'), 'utf8')).toBe('A');
    mkdirSync(join(root, 'empty'));
    await writeDirAtomic(join(root, 'empty'), fill({ 'b.bin': 'B' }), opts());
    expect(readFileSync(join(root, 'empty', 'b.bin'), 'utf8')).toBe('B');
    expect(treeHashExcept(root, 'models', 'empty')).toEqual(before);
    expect(leftovers(root)).toEqual([]);
  });

  it('refuses a directory that is not ours and keeps every file in it', async () => {
    await refusesAsync(() => writeDirAtomic(join(root, 'docs'), fill({ 'a.bin': 'A' }), opts({ force: true })), /refusing to write the model directory .*docs: it exists and is not a model directory \(no OURS file\); it holds notes\.txt/);
  });

  it('refuses a file, a FIFO and a link to a FIFO where a directory is expected', async () => {
    await refusesAsync(() => writeDirAtomic(join(root, 'data.csv'), fill({}), opts({ force: true })), /data\.csv: it is a regular file, not a directory/);
    mkfifo(join(root, 'pipe'));
    symlinkSync('pipe', join(root, 'to-pipe'));
    await refusesAsync(() => writeDirAtomic(join(root, 'pipe'), fill({}), opts({ force: true })), /pipe: it is a FIFO \(named pipe\), not a directory/);
    await refusesAsync(() => writeDirAtomic(join(root, 'to-pipe'), fill({}), opts({ force: true })), /to-pipe \(a symbolic link to .*pipe\): it is a FIFO/);
  });

  it('refuses a target that is, contains or lies inside an input', async () => {
    mkdirSync(join(root, 'set'));
    writeFileSync(join(root, 'set', 'ratings.csv'), '1,2\n');
    const inputs = [join(root, 'set')];
    await refusesAsync(() => writeDirAtomic(join(root, 'set'), fill({}), opts({ inputs, force: true })), /set: it is .*set, an input of this run/);
    await refusesAsync(() => writeDirAtomic(join(root, 'set', 'model'), fill({}), opts({ inputs })), /set\/model: it lies inside .*set, an input of this run/);
    await refusesAsync(() => writeDirAtomic(root, fill({}), opts({ inputs: [join(root, 'data.csv')], force: true })), /it contains .*data\.csv, an input of this run/);
    await refusesAsync(() => writeDirAtomic(join(root, 'data.csv'), fill({}), opts({ inputs: [join(root, 'data.csv')] })), /data\.csv: it is .*data\.csv, an input of this run/);
  });

  it('replaces its own directory only with force, deleting only the entries it claims', async () => {
    const m = join(root, 'm');
    await writeDirAtomic(m, fill({ 'a.bin': 'A', 'b.bin': 'B' }), opts());
    await refusesAsync(() => writeDirAtomic(m, fill({ 'c.bin': 'C' }), opts()), /refusing to replace the model directory .*m: it already holds one; pass --force to replace it/);
    const before = treeHashExcept(root, 'm');
    await writeDirAtomic(m, fill({ 'c.bin': 'C' }), opts({ force: true }));
    expect(treeHashExcept(root, 'm')).toEqual(before);
    expect(Object.keys(treeHash(m)).sort()).toEqual(['OURS', 'c.bin']);
    expect(leftovers(root)).toEqual([]);
    // A file it did not write inside its directory: refused even with force, and the file survives.
    writeFileSync(join(m, 'my-notes.txt'), 'mine');
    await refusesAsync(() => writeDirAtomic(m, fill({ 'd.bin': 'D' }), opts({ force: true })), /besides its own files it holds my-notes\.txt, which the program did not write/);
    mkdirSync(join(root, 'm2'));
    writeFileSync(join(root, 'm2', 'OURS'), 'sub');
    mkdirSync(join(root, 'm2', 'sub')); // claimed, but a directory: never removed recursively
    await refusesAsync(() => writeDirAtomic(join(root, 'm2'), fill({}), opts({ force: true })), /besides its own files it holds sub/);
  });

  it('writes through a symbolic link to its directory and keeps the link', async () => {
    await writeDirAtomic(join(root, 'real'), fill({ 'a.bin': 'A' }), opts());
    symlinkSync('real', join(root, 'link'));
    await writeDirAtomic(join(root, 'link'), fill({ 'b.bin': 'B' }), opts({ force: true }));
    expect(readlinkSync(join(root, 'link'))).toBe('real');
    expect(Object.keys(treeHash(join(root, 'real'))).sort()).toEqual(['OURS', 'b.bin']);
    symlinkSync('docs', join(root, 'to-docs'));
    await refusesAsync(() => writeDirAtomic(join(root, 'to-docs'), fill({}), opts({ force: true })), /to-docs \(a symbolic link to .*docs\): it exists and is not a model directory/);
  });

  it('on a failing fill removes its temporary directory and the parents it made, and keeps the old directory', async () => {
    await writeDirAtomic(join(root, 'm'), fill({ 'a.bin': 'A' }), opts());
    const before = treeHash(root);
    const failing = async (): Promise<void> => {
      throw new Error('disk on fire');
    };
    await expect(writeDirAtomic(join(root, 'm'), failing, opts({ force: true }))).rejects.toThrow('disk on fire');
    await expect(writeDirAtomic(join(root, 'new', 'deeper', 'm'), failing, opts())).rejects.toThrow('disk on fire');
    expect(treeHash(root)).toEqual(before);
  });

  it('checkOutputDir reports what a write would replace and creates nothing', () => {
    const before = treeHash(root);
    expect(checkOutputDir(join(root, 'new', 'm'), opts())).toEqual({ target: join(root, 'new', 'm'), replaces: null });
    expect(treeHash(root)).toEqual(before);
  });
});
