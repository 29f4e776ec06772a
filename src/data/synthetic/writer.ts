import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Writes text lines to a file through a buffer, atomically (temp file + rename), optionally gzipped. */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly fd: number | null;
  private readonly gz: string[] | null;
  private readonly tmp: string;
  /** Lines written so far. */
  lines = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = `${path}.tmp-${process.pid}`;
    const gzip = path.endsWith('.gz');
    this.fd = gzip ? null : openSync(this.tmp, 'w');
    this.gz = gzip ? [] : null;
  }

  /** Appends one line (a newline is added). */
  line(text: string): void {
    this.parts.push(text);
    this.size += text.length + 1;
    this.lines++;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    if (this.fd !== null) writeSync(this.fd, chunk);
    else this.gz!.push(chunk);
  }

  /** Finishes the file and moves it into place. */
  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    else {
      const fd = openSync(this.tmp, 'w');
      writeSync(fd, gzipSync(Buffer.from(this.gz!.join('')), { level: 9 }));
      closeSync(fd);
    }
    renameSync(this.tmp, this.path);
  }
}

/** Quotes a CSV field when it holds a comma, quote or newline. */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
