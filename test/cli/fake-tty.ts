/**
 * A minimal terminal emulator for tests: a TTY of fixed width that interprets what a progress renderer writes
 * (printable characters with auto-wrap at the right margin, CR, LF, erase-in-line, cursor visibility) and
 * shows the resulting screen lines.
 */
export class FakeTty {
  readonly isTTY = true;
  /** Everything written, verbatim. */
  raw = '';
  private screen: string[][] = [[]];
  private row = 0;
  private col = 0;

  constructor(readonly columns = 80) {}

  write(chunk: string | Uint8Array): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    this.raw += text;
    const chars = [...text];
    for (let k = 0; k < chars.length; k++) {
      const ch = chars[k];
      if (ch === '\x1b') {
        k = this.escape(chars, k);
        continue;
      }
      if (ch === '\r') this.col = 0;
      else if (ch === '\n') this.newline();
      else if (ch >= ' ') this.put(ch);
    }
    return true;
  }

  /** Interprets the CSI sequence starting at `chars[k]` (ESC); returns the index of its last character. */
  private escape(chars: string[], k: number): number {
    if (chars[k + 1] !== '[') return k + 1;
    let j = k + 2;
    let params = '';
    while (j < chars.length && !/[A-Za-z]/.test(chars[j])) params += chars[j++];
    const final = chars[j];
    const line = this.line();
    if (final === 'K') {
      if (params === '' || params === '0') line.length = Math.min(line.length, this.col); // cursor to end
      else if (params === '1') for (let c = 0; c <= Math.min(this.col, line.length - 1); c++) line[c] = ' '; // start to cursor
      else line.length = 0; // whole line
    } else if (final === 'G') {
      this.col = Math.max(0, Number(params || '1') - 1);
    } else if (final === 'A') {
      this.row = Math.max(0, this.row - Number(params || '1'));
    } else if (final === 'B') {
      this.row += Number(params || '1');
      this.line();
    }
    // Other sequences (cursor visibility ?25l / ?25h, colours) do not change the text on screen.
    return j;
  }

  private line(): string[] {
    while (this.screen.length <= this.row) this.screen.push([]);
    return this.screen[this.row];
  }

  private newline(): void {
    this.row++;
    this.col = 0;
    this.line();
  }

  private put(ch: string): void {
    if (this.col >= this.columns) this.newline(); // auto-wrap: the cursor sat past the right margin
    const line = this.line();
    while (line.length < this.col) line.push(' ');
    line[this.col] = ch;
    this.col++;
  }

  /** The screen's lines, trailing blanks removed, trailing empty lines dropped. */
  lines(): string[] {
    const out = this.screen.map((l) => l.join('').replace(/\s+$/, ''));
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out;
  }

  /** The line the cursor is on. */
  currentLine(): string {
    return (this.screen[this.row] ?? []).join('').replace(/\s+$/, '');
  }
}
