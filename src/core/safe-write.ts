/**
 * Writing outputs without harming anything else. Every file or directory the program writes goes through
 * here, so that no output path can destroy what the user has:
 *
 * - device nodes, FIFOs and sockets are refused (writing one would block, or turn it into a regular file);
 * - a symbolic link is written through: the file (or directory) it points to is replaced, the link is kept;
 * - a file is written to a temporary file in the target's own directory, fsynced, renamed over the target and
 *   the directory fsynced; the temporary file is removed on every failure;
 * - missing parent directories are created one by one after checking that the first existing ancestor is a
 *   directory on a real file system (not /proc or /sys, where `mkdir -p` loops forever); directories created
 *   for an output that then fails are removed again;
 * - an output may not be (or, for directories, contain or lie inside) an input of the run;
 * - an output directory is replaced only when it is the program's own (a predicate recognises it and names
 *   its entries), only with `force`, and only its own entries are deleted (never `rm -r` on anything else);
 * - file system errors become sentences naming the path; refusals are {@link UsageError}s.
 *
 * Ground floor: imports only node: modules (and core's own errors).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync,
  realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from './errors.js';

/** Options of the file writers. */
export interface OutputFileOptions {
  /** Files and folders the run reads: the output may not be one of them (compared by real path and inode). */
  inputs?: readonly (string | undefined)[];
  /** What is written, for messages: "report", "results file"... (default "output"). */
  what?: string;
}

/** Options of the directory writers. */
export interface OutputDirOptions extends OutputFileOptions {
  /**
   * Recognises a directory this program wrote: returns the names of the entries that belong to it (e.g. the
   * manifest and the files it lists), or null when the directory is not one of the program's.
   */
  recognize: (dir: string) => readonly string[] | null;
  /** What a recognised directory has that others lack, for the refusal ("no model.json with a known modelType"). */
  marker?: string;
  /** Allows replacing an existing recognised directory (default false). */
  force?: boolean;
  /** How the user allows the replacement, for the refusal (default "give force to replace it"). */
  forceHint?: string;
}

/** What {@link checkOutputDir} found. */
export interface OutputDirPlan {
  /** Absolute path that will be written (symbolic links followed). */
  target: string;
  /** The entries an existing directory there holds (all the program's own; [] when empty), or null when there is none. */
  replaces: readonly string[] | null;
}

const MAX_LINKS = 40;
/** Kernel pseudo file systems: never a place for outputs (and `mkdir -p` under /proc loops forever). */
const PSEUDO_ROOTS = ['/proc', '/sys'];
/** Error codes that mean "this path cannot be used" (a usage error) rather than "the write failed". */
const PATH_CODES = new Set(['EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY', 'EROFS', 'ENAMETOOLONG', 'ELOOP', 'ENOENT', 'ENXIO', 'EXDEV', 'EINVAL']);
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'something else appeared there meanwhile',
  ENOTEMPTY: 'something else appeared there meanwhile',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  ENOENT: 'the file system does not allow files there',
  ENXIO: 'no such device',
  EXDEV: 'it is on another file system than its directory',
  EINVAL: 'the file system does not allow this name',
  EIO: 'input/output error',
  EBUSY: 'the file is busy',
  EMFILE: 'too many open files',
};

function errnoOf(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** A file system error as a sentence naming the path; path problems become {@link UsageError}s. */
function sentence(e: unknown, doing: string): Error {
  if (e instanceof UsageError) return e;
  const code = errnoOf(e);
  if (code === undefined) return e instanceof Error ? e : new Error(String(e));
  const message = `${doing}: ${REASONS[code] ?? (e as Error).message} (${code})`;
  return PATH_CODES.has(code) ? new UsageError(message, { cause: e }) : new Error(message, { cause: e });
}

/** "a directory", "a FIFO (named pipe)"... */
function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

function statOrNull(path: string, follow: boolean, doing: string): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw sentence(e, doing);
  }
}

/**
 * `path` made absolute with its last component's symbolic links followed (the link chain, even to a missing
 * target). A chain through /proc or /sys (`/dev/stdout` → `/proc/self/fd/1` → an open file) is refused: the
 * open file is not a path on disk, and replacing what it points to would cut off the process holding it.
 */
function followLinks(path: string): string {
  let p = resolve(path);
  for (let hops = 0; ; hops++) {
    const st = statOrNull(p, false, `cannot use ${path}`);
    if (!st?.isSymbolicLink()) return p;
    if (hops >= MAX_LINKS) throw new UsageError(`cannot use ${path}: too many levels of symbolic links`);
    const root = pseudoRoot(dirname(p));
    if (root) throw new UsageError(`refusing to write ${path}: it leads to ${p} in ${root}, a kernel pseudo file system (an open file or device, not a file on disk); give a file path`);
    p = resolve(dirname(p), readlinkSync(p));
  }
}

/** The kernel pseudo file system (/proc, /sys) `dir` lies in, if any (Linux). */
function pseudoRoot(dir: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const real = realLocation(dir);
  return PSEUDO_ROOTS.find((root) => real === root || isWithin(real, root));
}

/** The real location of `path`, which need not exist: the real path of its longest existing prefix plus the rest. */
function realLocation(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realLocation(parent), basename(abs));
  }
}

function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The user's path, and where it leads when that differs. */
function shown(path: string, target: string): string {
  return resolve(path) === target ? path : `${path} (a symbolic link to ${target})`;
}

/**
 * The missing directories above an output, outermost first, after checking that the first existing ancestor
 * is a directory outside the kernel pseudo file systems. Creates nothing.
 */
function missingParents(dir: string, name: string): string[] {
  const missing: string[] = [];
  for (let cur = dir; ; cur = dirname(cur)) {
    const st = statOrNull(cur, true, `cannot write ${name}: cannot look at ${cur}`);
    if (st) {
      if (!st.isDirectory()) throw new UsageError(`cannot write ${name}: ${cur} is ${kindOf(st)}, not a directory`);
      const root = pseudoRoot(cur);
      if (root) throw new UsageError(`cannot write ${name}: it lies in ${root}, a kernel pseudo file system where files cannot be created`);
      return missing;
    }
    const link = statOrNull(cur, false, `cannot write ${name}`);
    if (link?.isSymbolicLink()) throw new UsageError(`cannot write ${name}: ${cur} is a symbolic link to ${readlinkSync(cur)}, which does not exist`);
    missing.unshift(cur);
    if (dirname(cur) === cur) return missing;
  }
}

/** Creates `dirs` one level at a time (never `mkdir -p`, which loops on some file systems); returns those it made. */
function makeParents(dirs: readonly string[], name: string): string[] {
  const made: string[] = [];
  for (const d of dirs) {
    try {
      mkdirSync(d);
      made.push(d);
    } catch (e) {
      if (errnoOf(e) === 'EEXIST' && statOrNull(d, true, name)?.isDirectory()) continue;
      removeMadeParents(made);
      throw sentence(e, `cannot write ${name}: cannot create the directory ${d}`);
    }
  }
  return made;
}

/** Removes directories {@link makeParents} made, innermost first, if they are still empty. */
function removeMadeParents(made: readonly string[]): void {
  for (const d of [...made].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

function checkInputs(target: string, inputs: readonly (string | undefined)[], name: string, asDir: boolean): void {
  const real = realLocation(target);
  const st = statOrNull(target, true, name);
  for (const input of inputs) {
    if (input === undefined) continue;
    const inReal = realLocation(input);
    const inSt = st ? statOrNull(input, true, name) : null;
    if (inReal === real || (st && inSt && st.dev === inSt.dev && st.ino === inSt.ino)) {
      throw new UsageError(`refusing to write ${name}: it is ${input}, an input of this run`);
    }
    if (!asDir) continue;
    if (isWithin(inReal, real)) throw new UsageError(`refusing to write ${name}: it contains ${input}, an input of this run`);
    if (isWithin(real, inReal)) throw new UsageError(`refusing to write ${name}: it lies inside ${input}, an input of this run`);
  }
}

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename is still done.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Content to write: all at once, or chunks produced while writing (so that it need not fit one string). */
export type FileContent = string | Uint8Array | Iterable<string | Uint8Array>;

function writeContent(fd: number, data: FileContent): void {
  if (typeof data === 'string' || data instanceof Uint8Array) writeAll(fd, bytesOf(data));
  else for (const chunk of data) writeAll(fd, bytesOf(chunk));
}

/** fsyncs every regular file under `dir`, then `dir` itself. */
function syncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) syncTree(p);
    else if (e.isFile()) {
      const fd = openSync(p, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

function temporaryName(target: string, kind: 'tmp' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Checks that `path` can be written as a regular file without harming anything; creates nothing. Returns the
 * absolute path that will be written (symbolic links followed). Throws a {@link UsageError} when `path` is a
 * directory, device, FIFO or socket, lies under something that is not a directory or under /proc or /sys,
 * or is one of `inputs`.
 */
export function checkOutputFile(path: string, options: OutputFileOptions = {}): string {
  const target = followLinks(path);
  const what = options.what ?? 'output';
  const name = `the ${what} ${shown(path, target)}`;
  checkInputs(target, options.inputs ?? [], name, false);
  const st = statOrNull(target, true, `cannot write ${name}`);
  if (st?.isDirectory()) throw new UsageError(`cannot write ${name}: it is a directory, not a file; give the path of a file`);
  if (st && !st.isFile()) throw new UsageError(`refusing to write ${name}: it is ${kindOf(st)}, not a regular file`);
  missingParents(dirname(target), name);
  return target;
}

/**
 * Writes `data` to `path` atomically (see the module comment): afterwards the file holds either its old
 * content or all of `data` (an iterable of chunks that throws leaves the old content). An existing file keeps its permission bits. Returns the path written.
 */
export function writeFileSafe(path: string, data: FileContent, options: OutputFileOptions = {}): string {
  const target = checkOutputFile(path, options);
  const name = `the ${options.what ?? 'output'} ${shown(path, target)}`;
  const made = makeParents(missingParents(dirname(target), name), name);
  const tmp = `${temporaryName(target, 'tmp')}.tmp`;
  let madeTmp = false;
  let fd: number | null = null;
  let doing = `cannot write ${name}: cannot create a temporary file in ${dirname(target)}`;
  try {
    fd = openSync(tmp, 'wx', 0o666); // exclusive: the temporary file is always the program's own
    madeTmp = true;
    const old = statOrNull(target, true, name);
    if (old) fchmodSync(fd, old.mode & 0o7777);
    doing = `cannot write ${name}`;
    writeContent(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    const now = statOrNull(target, false, name); // it may have changed since the check
    if (now && !now.isFile()) throw new UsageError(`refusing to write ${name}: it became ${kindOf(now)} while being written`);
    doing = `cannot write ${name}: cannot rename the temporary file into place`;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    if (madeTmp) unlinkSync(tmp);
    removeMadeParents(made);
    throw sentence(e, doing);
  }
  fsyncDir(dirname(target));
  return target;
}

/**
 * Appends `data` to the regular file `path` (created when missing), then fsyncs it. Refuses what
 * {@link checkOutputFile} refuses; never blocks on a FIFO put in place after the check.
 */
export function appendFileSafe(path: string, data: string | Uint8Array, options: OutputFileOptions = {}): void {
  const target = checkOutputFile(path, options);
  const name = `the ${options.what ?? 'output'} ${shown(path, target)}`;
  const made = makeParents(missingParents(dirname(target), name), name);
  let fd: number | null = null;
  try {
    fd = openSync(target, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0), 0o666);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`refusing to write ${name}: it is ${kindOf(st)}, not a regular file`);
    writeAll(fd, bytesOf(data));
    fsyncSync(fd);
  } catch (e) {
    removeMadeParents(made);
    throw sentence(e, `cannot append to ${name}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Checks that `path` can receive an output directory without harming anything; creates nothing. Allowed: a
 * missing path, an empty directory, or (with `force`) a directory `recognize` claims whose every entry is
 * one of the claimed regular files. Refused with a {@link UsageError}: anything else there, a path that is,
 * contains or lies inside one of `inputs`, and the parent problems {@link checkOutputFile} refuses.
 */
export function checkOutputDir(path: string, options: OutputDirOptions): OutputDirPlan {
  const target = followLinks(path);
  const what = options.what ?? 'output directory';
  const name = `the ${what} ${shown(path, target)}`;
  checkInputs(target, options.inputs ?? [], name, true);
  const st = statOrNull(target, true, `cannot write ${name}`);
  if (st && !st.isDirectory()) throw new UsageError(`refusing to write ${name}: it is ${kindOf(st)}, not a directory`);
  missingParents(dirname(target), name);
  if (!st) return { target, replaces: null };
  let entries: string[];
  try {
    entries = readdirSync(target);
  } catch (e) {
    throw sentence(e, `cannot write ${name}: cannot list it`);
  }
  if (entries.length === 0) return { target, replaces: [] };
  const owned = options.recognize(target);
  const listed = (names: readonly string[]): string => `${names.slice(0, 5).join(', ')}${names.length > 5 ? `, ... (${names.length} entries)` : ''}`;
  if (owned === null) {
    throw new UsageError(`refusing to write ${name}: it exists and is not a ${what} (${options.marker ?? 'not recognised'}); it holds ${listed(entries)}. Choose a new path or an empty directory`);
  }
  const foreign = entries.filter((e) => !owned.includes(e) || !statOrNull(join(target, e), false, name)?.isFile());
  if (foreign.length > 0) throw new UsageError(`refusing to replace ${name}: besides its own files it holds ${listed(foreign)}, which the program did not write; move them away or choose another path`);
  if (!options.force) throw new UsageError(`refusing to replace ${name}: it already holds one; ${options.forceHint ?? 'give force to replace it'}`);
  return { target, replaces: entries };
}

/** Deletes the listed regular files in `dir`, then `dir` itself (never anything else); false when something is left. */
function removeOwned(dir: string, entries: readonly string[]): boolean {
  try {
    for (const e of entries) unlinkSync(join(dir, e));
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a directory atomically: `fill` writes the files into a fresh temporary directory beside the target,
 * which is then fsynced and renamed into place (after {@link checkOutputDir}, rechecked just before the
 * swap). A replaced directory's own entries are deleted after the swap; on any failure the temporary
 * directory is removed and the target is as it was. Returns the path written.
 */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>, options: OutputDirOptions): Promise<string> {
  const { target } = checkOutputDir(path, options);
  const name = `the ${options.what ?? 'output directory'} ${shown(path, target)}`;
  const made = makeParents(missingParents(dirname(target), name), name);
  const tmp = temporaryName(target, 'tmp');
  let madeTmp = false;
  let doing = `cannot write ${name}: cannot create a temporary directory in ${dirname(target)}`;
  try {
    mkdirSync(tmp);
    madeTmp = true;
    doing = `cannot write ${name}`;
    await fill(tmp);
    syncTree(tmp);
    const plan = checkOutputDir(path, options); // the target may have changed while `fill` ran
    doing = `cannot write ${name}: cannot rename the temporary directory into place`;
    if (plan.replaces === null || plan.replaces.length === 0) {
      renameSync(tmp, target); // rename(2) replaces an empty directory
    } else {
      const old = temporaryName(target, 'old');
      renameSync(target, old);
      try {
        renameSync(tmp, target);
      } catch (e) {
        renameSync(old, target);
        throw e;
      }
      fsyncDir(dirname(target));
      if (!removeOwned(old, plan.replaces)) throw new Error(`wrote ${name}, but the directory it replaced, moved to ${old}, could not be removed completely: look there for files that are not the program's`);
    }
  } catch (e) {
    if (madeTmp) rmSync(tmp, { recursive: true, force: true }); // the program's own temporary directory
    removeMadeParents(made);
    throw sentence(e, doing);
  }
  fsyncDir(dirname(target));
  return target;
}
