/**
 * The first bytes of a delimited text file, read before DuckDB sees it: binary files are refused with the
 * offset of the first binary byte, and line 1 is split into the header names as written (DuckDB renames
 * repeated names, so duplicates are found here).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DataFileError } from './errors.js';

/** Bytes read from the start of a file (decompressed, for .gz). */
export const HEAD_BYTES = 1 << 16;

/** The start of a text file. */
export interface FileHead {
  /** Up to {@link HEAD_BYTES} bytes (decompressed), BOM included. */
  bytes: Buffer;
  /** Whether the file ended within `bytes`. */
  complete: boolean;
}

/** Reads the first {@link HEAD_BYTES} bytes of `path`, decompressing gzip; a broken gzip stream is an error naming the file. */
export async function readHead(path: string, gzip: boolean): Promise<FileHead> {
  const parts: Buffer[] = [];
  let size = 0;
  const raw = createReadStream(path, gzip ? {} : { end: HEAD_BYTES - 1 });
  const source = gzip ? raw.pipe(createGunzip()) : raw;
  let complete = true;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= HEAD_BYTES) {
        complete = false;
        break;
      }
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const plain = /incorrect header check/i.test(msg) ? ' (the name ends in .gz but the file is not gzip-compressed)' : '';
    throw new DataFileError(path, `cannot be decompressed as gzip: ${msg}${plain}`);
  } finally {
    raw.destroy();
    if (source !== raw) source.destroy();
  }
  const bytes = Buffer.concat(parts).subarray(0, HEAD_BYTES);
  if (!gzip && bytes.length >= HEAD_BYTES) complete = false;
  return { bytes, complete };
}

const MAGIC: [number[], string][] = [
  [[0x1f, 0x8b], 'it looks gzip-compressed: name it .gz'],
  [[0x50, 0x4b, 0x03, 0x04], 'it looks like a zip archive: extract it first'],
  [[0x50, 0x41, 0x52, 0x31], 'it looks like Parquet: name it .parquet'],
  [[0x42, 0x5a, 0x68], 'it looks bzip2-compressed: decompress it first'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'it looks xz-compressed: decompress it first'],
];

/** A control byte that does not occur in text (tab, LF, VT, FF, CR and ESC are allowed). */
function isBinaryByte(b: number): boolean {
  return b < 0x20 ? b !== 0x09 && b !== 0x0a && b !== 0x0b && b !== 0x0c && b !== 0x0d && b !== 0x1b : b === 0x7f;
}

/**
 * Throws "not a text file (binary byte 0xNN at offset N, line L)" when the head holds a NUL byte, starts with
 * a known binary signature, or has more than 1% control bytes. A stray control byte or two in text is left to
 * the CSV reader (the row is reported with its line).
 */
export function requireTextHead(path: string, head: FileHead): void {
  const b = head.bytes;
  const magic = MAGIC.find(([sig]) => sig.every((x, k) => b[k] === x));
  let first = -1;
  let count = 0;
  let nul = -1;
  for (let k = 0; k < b.length; k++) {
    const x = b[k];
    if (!isBinaryByte(x)) continue;
    if (first < 0) first = k;
    if (x === 0 && nul < 0) nul = k;
    count++;
  }
  if (!magic && nul < 0 && count <= b.length / 100) return;
  const at = magic ? 0 : nul >= 0 ? nul : first;
  let line = 1;
  for (let k = 0; k < at; k++) if (b[k] === 0x0a) line++;
  const byte = `0x${b[at].toString(16).padStart(2, '0')}`;
  throw new DataFileError(path, `not a text file (binary byte ${byte} at offset ${at}, line ${line})${magic ? `; ${magic[1]}` : ''}`, { line });
}

/**
 * The fields of line 1 as written (BOM removed, surrounding spaces trimmed, quotes undone), or null when the
 * head ends inside line 1 or the line spans lines inside quotes.
 */
export function headerFields(head: FileHead, delimiter: string, quote: string, encoding: 'utf-8' | 'latin-1'): string[] | null {
  let b = head.bytes;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const text = b.toString(encoding === 'latin-1' ? 'latin1' : 'utf8');
  const fields: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (inQuote) {
      if (c === quote) {
        if (text[k + 1] === quote) {
          cur += c;
          k++;
        } else inQuote = false;
      } else if (c === '\n') return null;
      else cur += c;
      continue;
    }
    if (quote && c === quote && cur.trim() === '') {
      cur = '';
      inQuote = true;
    } else if (text.startsWith(delimiter, k)) {
      fields.push(cur.trim());
      cur = '';
      k += delimiter.length - 1;
    } else if (c === '\n' || c === '\r') {
      fields.push(cur.trim());
      return fields;
    } else cur += c;
  }
  if (!head.complete) return null;
  fields.push(cur.trim());
  return fields;
}

/**
 * The first line of the head that breaks a consistent layout, and why: mixed line endings, a carriage return
 * inside a line, a quote inside an unquoted field, a different number of fields than line 1, or bytes that are
 * not UTF-8. Line 1 (with a generic reason) when nothing stands out.
 */
export function diagnoseLayout(head: FileHead, delimiter: string, quote: string): { line: number; reason: string } {
  let b = head.bytes;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const raw = b.toString('latin1');
  const parts = raw.split('\n');
  if (!head.complete && parts.length > 1) parts.pop();
  const utf8 = (s: string): boolean => !Buffer.from(s, 'latin1').toString('utf8').includes('\ufffd');
  const fieldsOf = (line: string): { n: number; strayQuote: boolean } => {
    let n = 1;
    let inQuote = false;
    let fieldStart = true;
    let strayQuote = false;
    for (let k = 0; k < line.length; k++) {
      const c = line[k];
      if (inQuote) {
        if (c === quote) {
          if (line[k + 1] === quote) k++;
          else inQuote = false;
        }
      } else if (quote && c === quote) {
        if (fieldStart) inQuote = true;
        else strayQuote = true;
      } else if (line.startsWith(delimiter, k)) {
        n++;
        fieldStart = true;
        k += delimiter.length - 1;
        continue;
      }
      if (c !== ' ') fieldStart = false;
    }
    return { n, strayQuote };
  };
  const crlf = parts[0].endsWith('\r');
  const first = fieldsOf(parts[0].replace(/\r$/, '')).n;
  for (let k = 0; k < parts.length; k++) {
    const line = parts[k];
    const last = k === parts.length - 1;
    if (line === '' || (line === '\r' && crlf)) continue;
    if (!last && line.endsWith('\r') !== crlf) return { line: k + 1, reason: `mixed line endings (line ${k + 1} ends in ${crlf ? 'LF' : 'CRLF'}, line 1 in ${crlf ? 'CRLF' : 'LF'})` };
    const body = line.replace(/\r$/, '');
    if (body.includes('\r')) return { line: k + 1, reason: 'a carriage return inside the line' };
    if (!utf8(body)) return { line: k + 1, reason: 'bytes that are not UTF-8 (binary data or another encoding)' };
    const f = fieldsOf(body);
    if (f.strayQuote) return { line: k + 1, reason: `a quote (${quote}) inside an unquoted field` };
    if (f.n !== first) return { line: k + 1, reason: `${f.n} fields where line 1 has ${first}` };
  }
  return { line: 1, reason: 'no consistent layout found' };
}
