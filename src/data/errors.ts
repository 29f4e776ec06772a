/**
 * An input file that cannot be loaded as given. The message starts with the file and, where one is known,
 * names the line and the field ("x.csv line 3: non-numeric value in field \"rating\""); `line` and `field`
 * carry the same facts for programs (the CLI treats it as a validation error).
 */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
  readonly line?: number;
  readonly field?: string;

  /** `message` is prefixed with `file` unless it starts with it. */
  constructor(readonly file: string, message: string, where: { line?: number; field?: string } = {}) {
    super(message.startsWith(file) ? message : `${file}: ${message}`);
    if (where.line !== undefined) this.line = where.line;
    if (where.field !== undefined) this.field = where.field;
  }
}
