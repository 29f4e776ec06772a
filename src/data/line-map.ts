/**
 * File lines of the rows DuckDB read from a text file. DuckDB numbers "lines" as records plus blank lines (a
 * quoted field holding a newline leaves one record on two lines) and skips blank lines as rows, so neither its
 * row numbers nor its line numbers are the lines an editor shows. A lazy scan of the file (only as far as the
 * rows asked for) finds the blank lines and the records spanning several lines; files without either cost one
 * pass of memchr-speed searches up to the last row asked for.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** Turns the rows and reader line numbers of one file into 1-based file lines. */
export interface LineResolver {
  /**
   * The file line of each data row (0-based among the rows the reader kept, i.e. the staged table's row id) and
   * of each of the reader's own line numbers (as in DuckDB's rejects table).
   */
  lines(rows: readonly number[], readerLines: readonly number[]): Promise<{ rows: number[]; readerLines: number[] }>;
}

/** Row numbers of a Parquet file or other line-less source: row r is reported as "line" r + 1. */
export const ROW_NUMBERS: LineResolver = {
  lines: async (rows, readerLines) => ({ rows: rows.map((r) => r + 1), readerLines: readerLines.slice() }),
};

/** How the scanner splits the file: quote character ('' for none) and field separator. */
export interface LineMapFormat {
  gzip: boolean;
  quote: string;
  delimiter: string;
  /** Lines before the first data row (0 or 1). */
  headerLines: number;
}

/** The lazy scan of one text file. */
export class LineMap implements LineResolver {
  /** Logical lines (1-based, DuckDB's numbering) that are blank, ascending. */
  private readonly blanks: number[] = [];
  /** Logical lines spanning several file lines: [logical line, file lines added up to and including it]. */
  private readonly spans: Array<[number, number]> = [];
  private scanned = 0;
  private done = false;
  private iter: AsyncIterator<Buffer> | null = null;
  private inQuote = false;
  private justClosed = false;
  private fieldStart = true;
  private lineEmpty = true;
  private extra = 0;
  private physicalInLine = 0;
  /** Bytes of the (decompressed) file scanned so far. */
  private consumed = 0;

  private readonly delim: number;

  /** `rejected`: the logical lines the reader rejected (its rejects table), ascending. */
  constructor(private readonly path: string, private readonly format: LineMapFormat, private readonly rejected: readonly number[]) {
    this.delim = format.delimiter.charCodeAt(0);
  }

  async lines(rows: readonly number[], readerLines: readonly number[]): Promise<{ rows: number[]; readerLines: number[] }> {
    try {
      if (readerLines.length) await this.scanTo(Math.max(...readerLines));
      const out = readerLines.map((l) => l + this.extraBefore(l));
      // Ascending rows scan the file once; the answers go back in the order asked.
      const order = rows.map((_, k) => k).sort((x, y) => rows[x] - rows[y]);
      const lines = new Array<number>(rows.length);
      for (const k of order) lines[k] = await this.rowLine(rows[k]);
      return { rows: lines, readerLines: out };
    } finally {
      await this.pause();
    }
  }

  private async rowLine(row: number): Promise<number> {
    // Logical line of row r: r + 1 + header, pushed past every blank and rejected line at or before it.
    for (;;) {
      let line = row + 1 + this.format.headerLines;
      let b = 0;
      let j = 0;
      for (;;) {
        const nb = b < this.blanks.length ? this.blanks[b] : Infinity;
        const nj = j < this.rejected.length ? this.rejected[j] : Infinity;
        const next = Math.min(nb, nj);
        if (next > line) break;
        line++;
        if (nb === next) b++;
        if (nj === next) j++;
      }
      if (this.done || this.scanned >= line) return line + this.extraBefore(line);
      await this.scanTo(line);
    }
  }

  /** File lines added by multi-line records before logical line `l`. */
  private extraBefore(l: number): number {
    let lo = 0;
    let hi = this.spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.spans[mid][0] < l) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.spans[lo - 1][1];
  }

  /** Scans until at least `line` logical lines are known (or the file ends). */
  private async scanTo(line: number): Promise<void> {
    if (this.done || this.scanned >= line) return;
    if (!this.iter) this.iter = this.open();
    while (!this.done && this.scanned < line) {
      let next: IteratorResult<Buffer>;
      try {
        next = await this.iter.next();
      } catch {
        next = { done: true, value: undefined };
      }
      if (next.done) {
        this.done = true;
        // A last line without newline still counts.
        if (!this.lineEmpty || this.inQuote) this.endLine(false);
        break;
      }
      this.consumed += next.value.length;
      this.consume(next.value);
    }
  }

  /** The file's bytes from where the scan stopped (gzip: decompressed again, the part already seen skipped). */
  private open(): AsyncIterator<Buffer> {
    const plain = !this.format.gzip;
    const raw = createReadStream(this.path, { highWaterMark: 1 << 20, ...(plain && this.consumed > 0 ? { start: this.consumed } : {}) });
    const src = (plain ? raw : raw.pipe(createGunzip())) as AsyncIterable<Buffer>;
    const skip = plain ? 0 : this.consumed;
    const chunks = async function* (): AsyncGenerator<Buffer> {
      let left = skip;
      try {
        for await (const c of src) {
          if (left >= c.length) {
            left -= c.length;
            continue;
          }
          yield left > 0 ? c.subarray(left) : c;
          left = 0;
        }
      } finally {
        raw.destroy();
      }
    };
    return chunks();
  }

  /** Closes the file between calls (the scan state is kept; the next call reopens where it stopped). */
  private async pause(): Promise<void> {
    const it = this.iter;
    this.iter = null;
    if (it) await it.return?.(undefined);
  }

  private endLine(blank: boolean): void {
    this.scanned++;
    if (blank) this.blanks.push(this.scanned);
    if (this.physicalInLine > 0) {
      this.extra += this.physicalInLine;
      this.spans.push([this.scanned, this.extra]);
    }
    this.physicalInLine = 0;
    this.lineEmpty = true;
    this.fieldStart = true;
    this.inQuote = false;
    this.justClosed = false;
  }

  private consume(b: Buffer): void {
    const q = this.format.quote ? this.format.quote.charCodeAt(0) : -1;
    const n = b.length;
    let k = 0;
    let qpos = q < 0 ? -1 : b.indexOf(q);
    while (k < n) {
      if (this.inQuote || this.justClosed) {
        this.step(b[k++], q);
        continue;
      }
      // Outside quotes: whole lines up to the next quote byte end at each newline (native search).
      if (qpos >= 0 && qpos < k) qpos = b.indexOf(q, k);
      const limit = qpos < 0 ? n : qpos;
      let nl = b.indexOf(10, k);
      while (nl >= 0 && nl < limit) {
        this.endLine(this.lineEmpty && (nl === k || (nl === k + 1 && b[k] === 13)));
        k = nl + 1;
        nl = b.indexOf(10, k);
      }
      // The rest of this line up to and including the quote (or the chunk's end) byte by byte.
      const stop = qpos < 0 ? n : qpos + 1;
      while (k < stop) this.step(b[k++], q);
    }
  }

  private step(c: number, q: number): void {
    if (this.inQuote) {
      if (c === q) {
        this.inQuote = false;
        this.justClosed = true;
      } else if (c === 10) this.physicalInLine++;
      return;
    }
    if (this.justClosed) {
      this.justClosed = false;
      if (c === q) {
        // A doubled quote inside a quoted field.
        this.inQuote = true;
        return;
      }
    }
    if (c === 10) {
      this.endLine(this.lineEmpty);
      return;
    }
    if (c === q && this.fieldStart) {
      this.inQuote = true;
      this.lineEmpty = false;
      return;
    }
    if (c !== 13) this.lineEmpty = false;
    if (c === this.delim) this.fieldStart = true;
    else if (c !== 32 && c !== 9 && c !== 13) this.fieldStart = false;
  }
}
