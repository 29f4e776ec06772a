import type { CleaningIssue, CleaningReport } from './dataset.js';
import type { DuplicateReport } from './interactions.js';
import type { LineResolver } from './line-map.js';

/** How many line numbers an issue keeps as examples. */
export const EXAMPLE_LINES = 5;

/** Where an issue's example rows are, before they are turned into file lines. */
export interface RowRefs {
  /** Data rows (0-based among the rows the reader kept). */
  rows?: ArrayLike<number>;
  /** The reader's own line numbers (DuckDB's rejects table). */
  readerLines?: ArrayLike<number>;
}

type Entry = { issue: CleaningIssue } | { issue: Omit<CleaningIssue, 'lines'>; rows: number[]; readerLines: number[]; resolver: LineResolver };

const first = (xs: ArrayLike<number> | undefined): number[] => Array.from(xs ?? []).slice(0, EXAMPLE_LINES);

/** Collects cleaning issues and notes while a data set is loaded. */
export class CleaningLog {
  private readonly entries: Entry[] = [];
  readonly notes: string[] = [];
  readonly files: string[] = [];
  /** Interactions removed by filters (see {@link CleaningLog.filtered}). */
  private removedByFilters: number | undefined;

  /** Records an issue with its example lines (ignored when `count` is 0). */
  add(issue: CleaningIssue): void {
    if (issue.count <= 0) return;
    this.entries.push({ issue: { ...issue, lines: issue.lines.slice(0, EXAMPLE_LINES) } });
  }

  /** Records an issue whose examples are rows or reader lines of a file; `resolver` turns them into lines in {@link report}. */
  addAt(issue: Omit<CleaningIssue, 'lines'>, at: RowRefs, resolver: LineResolver): void {
    if (issue.count <= 0) return;
    this.entries.push({ issue, rows: first(at.rows), readerLines: first(at.readerLines), resolver });
  }

  /** Issues recorded so far (examples not yet resolved have no lines). */
  get issues(): CleaningIssue[] {
    return this.entries.map((e) => ('resolver' in e ? { ...e.issue, lines: [] } : e.issue));
  }

  /** Records a free-form note. */
  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Records a file that was read. */
  file(path: string): void {
    if (!this.files.includes(path)) this.files.push(path);
  }

  /** Counts interactions a filter removed (they appear in the report's `rowsFiltered`). */
  filtered(count: number): void {
    this.removedByFilters = (this.removedByFilters ?? 0) + count;
  }

  /** The final report, with every example row turned into its file line (one pass per file). */
  async report(rowsRead: number, rowsKept: number, duplicates: DuplicateReport): Promise<CleaningReport> {
    const byResolver = new Map<LineResolver, { rows: number[]; readerLines: number[] }>();
    for (const e of this.entries) {
      if (!('resolver' in e)) continue;
      const q = byResolver.get(e.resolver) ?? { rows: [], readerLines: [] };
      q.rows.push(...e.rows);
      q.readerLines.push(...e.readerLines);
      byResolver.set(e.resolver, q);
    }
    const answers = new Map<LineResolver, { rows: Map<number, number>; readerLines: Map<number, number> }>();
    for (const [resolver, q] of byResolver) {
      const got = await resolver.lines(q.rows, q.readerLines);
      answers.set(resolver, { rows: new Map(q.rows.map((r, k) => [r, got.rows[k]])), readerLines: new Map(q.readerLines.map((l, k) => [l, got.readerLines[k]])) });
    }
    const issues = this.entries.map((e): CleaningIssue => {
      if (!('resolver' in e)) return e.issue;
      const a = answers.get(e.resolver)!;
      const lines = [...e.rows.map((r) => a.rows.get(r)!), ...e.readerLines.map((l) => a.readerLines.get(l)!)].sort((x, y) => x - y).slice(0, EXAMPLE_LINES);
      return { ...e.issue, lines };
    });
    const report: CleaningReport = { files: this.files.slice(), rowsRead, rowsKept, duplicates, issues, notes: this.notes.slice() };
    if (this.removedByFilters !== undefined) report.rowsFiltered = this.removedByFilters;
    return report;
  }
}

/** How the rows of a report add up: read = kept + dropped + merged + filtered when `balanced`. */
export interface CleaningBalance {
  read: number;
  kept: number;
  /** Rows dropped, by issue kind (an issue per kind and file). */
  dropped: number;
  merged: number;
  filtered: number;
  balanced: boolean;
}

/** Adds up a report's rows (each dropped row is counted under exactly one issue). */
export function cleaningBalance(report: CleaningReport): CleaningBalance {
  const dropped = report.issues.filter((i) => i.action === 'dropped').reduce((a, i) => a + i.count, 0);
  const merged = report.duplicates.merged;
  const filtered = report.rowsFiltered ?? 0;
  return { read: report.rowsRead, kept: report.rowsKept, dropped, merged, filtered, balanced: report.rowsRead === report.rowsKept + dropped + merged + filtered };
}

/**
 * A human-readable multi-line rendering of a cleaning report: the one summary `datasets info` and `train`
 * print (and `train` stores with the model).
 */
export function formatCleaningReport(report: CleaningReport): string {
  const out: string[] = [];
  out.push(`files: ${report.files.join(', ')}`);
  out.push(`rows read: ${report.rowsRead}, interactions kept: ${report.rowsKept}`);
  const b = cleaningBalance(report);
  if (b.balanced && b.read !== b.kept) {
    out.push(`  ${b.read} read = ${b.kept} kept + ${b.dropped} dropped + ${b.merged} merged${report.rowsFiltered !== undefined ? ` + ${b.filtered} removed by filters` : ''}`);
  }
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
