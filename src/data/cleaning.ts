import type { CleaningIssue, CleaningReport } from './dataset.js';
import type { DuplicateReport } from './interactions.js';

/** How many line numbers an issue keeps as examples. */
export const EXAMPLE_LINES = 5;

/** Collects cleaning issues and notes while a data set is loaded. */
export class CleaningLog {
  readonly issues: CleaningIssue[] = [];
  readonly notes: string[] = [];
  readonly files: string[] = [];

  /** Records an issue (ignored when `count` is 0). */
  add(issue: CleaningIssue): void {
    if (issue.count <= 0) return;
    this.issues.push({ ...issue, lines: issue.lines.slice(0, EXAMPLE_LINES) });
  }

  /** Records a free-form note. */
  note(text: string): void {
    this.notes.push(text);
  }

  /** Records a file that was read. */
  file(path: string): void {
    if (!this.files.includes(path)) this.files.push(path);
  }

  /** The final report. */
  report(rowsRead: number, rowsKept: number, duplicates: DuplicateReport): CleaningReport {
    return { files: this.files.slice(), rowsRead, rowsKept, duplicates, issues: this.issues.slice(), notes: this.notes.slice() };
  }
}

/** A human-readable multi-line rendering of a cleaning report. */
export function formatCleaningReport(report: CleaningReport): string {
  const out: string[] = [];
  out.push(`files: ${report.files.join(', ')}`);
  out.push(`rows read: ${report.rowsRead}, interactions kept: ${report.rowsKept}`);
  const d = report.duplicates;
  out.push(`duplicates (policy ${d.policy}): ${d.merged} events merged over ${d.pairs} repeated pairs`);
  if (report.issues.length === 0) out.push('issues: none');
  for (const i of report.issues) {
    const where = i.lines.length ? ` (lines ${i.lines.join(', ')}${i.count > i.lines.length ? ', ...' : ''})` : '';
    out.push(`- ${i.file}: ${i.kind}${i.field ? ` [${i.field}]` : ''}: ${i.count} row(s) ${i.action}${where}`);
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
