/**
 * Terminal progress for people: one status line redrawn in place on a TTY (plain lines every few seconds
 * otherwise), a per-task {@link ProgressBar}, the demo's {@link StagedProgress} over several stages of weighted
 * units, and the Ctrl-C {@link interruptSignal}.
 *
 * Rendering rules: a status line never reaches the terminal's last column (so it never wraps) and erases the
 * rest of the line when redrawn (nothing of a longer earlier line is left over); text printed while a status
 * line is shown goes above it (the status line is cleared, the text written, the line redrawn); a finished
 * task's summary stays on its own line; an ETA is "–" until a rate has been measured.
 */
import type { Progress } from '../core/progress.js';

/** The part of a stream the renderer needs (process.stderr, or a fake terminal in tests). */
export interface StatusStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width; 80 when unknown. */
  columns?: number;
}

/** Options shared by the renderers. */
export interface StatusOptions {
  /** Where to draw (default process.stderr, read when the renderer is created). */
  stream?: StatusStream;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
  /** Non-interactive streams get a plain line at most this often (ms; default 2000). */
  plainInterval?: number;
}

const ERASE_TO_END = '\x1b[K';

/** Status lines currently shown, most recent last: text printed "above" goes through the last one. */
const shown: StatusLine[] = [];

/** Terminal columns taken by `s` (wide East Asian characters and emoji count two, combining marks none). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0) ?? 0);
  return w;
}

function charWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  const wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff)
    || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** `text` cut to at most `width` columns, ending in "…" when cut. */
export function fitWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0) ?? 0);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/** Seconds as "0:07", "1:05:09"; "–" when not a finite non-negative number. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Seconds for a summary: "0.42 s", "12.3 s", "2:05". */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return formatClock(seconds);
}

/**
 * One line of status redrawn in place: on a TTY with a carriage return and erase-to-end, cut to the terminal
 * width minus one; otherwise (pipes, files) as a plain line at most every `plainInterval` ms.
 */
export class StatusLine {
  readonly stream: StatusStream;
  readonly interactive: boolean;
  private readonly now: () => number;
  private readonly plainInterval: number;
  private text = '';
  private drawn = false;
  private lastPlain = -Infinity;

  constructor(options: StatusOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.interactive = this.stream.isTTY === true;
    this.now = options.now ?? Date.now;
    this.plainInterval = options.plainInterval ?? 2000;
  }

  private get width(): number {
    const c = this.stream.columns;
    return typeof c === 'number' && c > 1 ? c - 1 : 79;
  }

  /** Shows `text` as the status (plain mode: only when `plainInterval` has passed, or `flush`). */
  set(text: string, flush = false): void {
    this.text = text;
    if (!shown.includes(this)) shown.push(this);
    if (this.interactive) {
      this.stream.write(`\r${fitWidth(text, this.width)}${ERASE_TO_END}`);
      this.drawn = true;
      return;
    }
    const t = this.now();
    if (flush || t - this.lastPlain >= this.plainInterval) {
      this.lastPlain = t;
      this.stream.write(`${text}\n`);
    }
  }

  private clear(): void {
    if (this.interactive && this.drawn) this.stream.write(`\r${ERASE_TO_END}`);
    this.drawn = false;
  }

  /** Writes `text` (plus a newline) to `target` (default this line's stream) above the status, then redraws it. */
  print(text: string, target: StatusStream = this.stream): void {
    this.clear();
    target.write(text.endsWith('\n') ? text : `${text}\n`);
    if (this.interactive && this.text !== '' && shown.includes(this)) {
      this.stream.write(`\r${fitWidth(this.text, this.width)}${ERASE_TO_END}`);
      this.drawn = true;
    }
  }

  /** Removes the status; `summary`, when given, stays on its own line. */
  done(summary?: string): void {
    this.clear();
    const k = shown.indexOf(this);
    if (k >= 0) shown.splice(k, 1);
    this.text = '';
    if (summary !== undefined) this.stream.write(`${this.interactive ? fitWidth(summary, this.width) : summary}\n`);
  }
}

/**
 * Writes `text` above the most recent status line shown on `stream`'s terminal (clearing and redrawing it), or
 * plainly when none is shown. Use it for anything printed while a progress line may be on screen.
 */
export function printAbove(text: string, target: StatusStream = process.stderr): void {
  const line = shown[shown.length - 1];
  if (line) line.print(text, target);
  else target.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Measures a rate from the first report of a task: unknown until at least one unit is done after it. */
export class RateClock {
  private t0 = NaN;
  private done0 = 0;

  constructor(private readonly now: () => number) {}

  /** Starts (or restarts) measuring at `done` units. */
  reset(done: number): void {
    this.t0 = this.now();
    this.done0 = done;
  }

  /** Seconds since the last reset. */
  elapsed(): number {
    return Number.isNaN(this.t0) ? 0 : (this.now() - this.t0) / 1000;
  }

  /** Seconds left for `total − done` units at the measured rate; NaN until a rate is known. */
  eta(done: number, total: number): number {
    const dt = this.elapsed();
    const units = done - this.done0;
    if (Number.isNaN(this.t0) || units <= 0 || dt <= 0) return NaN;
    return Math.max(0, total - done) * (dt / units);
  }
}

function formatMetric(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(4);
}

function metricsText(p: Progress): string {
  return p.metrics ? Object.entries(p.metrics).map(([k, v]) => `${k}=${formatMetric(v)}`).join(' ') : '';
}

/** A 20-cell bar for a fraction in [0, 1]. */
function barText(fraction: number, cells = 20): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * cells);
  return `${'█'.repeat(full)}${'░'.repeat(cells - full)}`;
}

/**
 * A progress bar for one task: `label phase [████░░░░] 45% 9/20 · ETA 0:12 · loss=0.23`. When stopped, its
 * summary (`label: phase 20/20 done in 4.21 s`) stays on its own line.
 */
export class ProgressBar {
  private readonly line: StatusLine;
  private readonly now: () => number;
  private readonly rate: RateClock;
  private started = NaN;
  private last: Progress | null = null;

  constructor(private readonly label: string, options: StatusOptions = {}) {
    this.line = new StatusLine(options);
    this.now = options.now ?? Date.now;
    this.rate = new RateClock(this.now);
  }

  /** Feeds one progress report (the first one starts the bar; a new phase or total restarts the ETA). */
  update(p: Progress): void {
    if (Number.isNaN(this.started)) this.started = this.now();
    if (!this.last || this.last.phase !== p.phase || this.last.total !== p.total || p.done < this.last.done) this.rate.reset(p.done);
    this.last = p;
    const fraction = p.total > 0 ? p.done / p.total : 0;
    const metrics = metricsText(p);
    const eta = formatClock(this.rate.eta(p.done, p.total));
    const text = this.line.interactive
      ? `${this.label} ${p.phase} [${barText(fraction)}] ${Math.round(fraction * 100)}% ${p.done}/${p.total} · ETA ${eta}${metrics ? ` · ${metrics}` : ''}`
      : `${this.label} ${p.phase} ${p.done}/${p.total} · ETA ${eta}${metrics ? ` · ${metrics}` : ''}`;
    this.line.set(text, p.done === p.total);
  }

  /** Writes `text` above the bar. */
  print(text: string, target?: StatusStream): void {
    this.line.print(text, target);
  }

  /** Ends the bar, leaving its summary on its own line (nothing when it never started). */
  stop(): void {
    if (!this.last) return;
    const p = this.last;
    const seconds = (this.now() - this.started) / 1000;
    const metrics = metricsText(p);
    const phase = p.phase === 'done' ? '' : `${p.phase} `;
    this.line.done(`${this.label}: ${phase}${p.done}/${p.total} ${p.done === p.total ? 'done' : 'stopped'} in ${formatSeconds(seconds)}${metrics ? ` · ${metrics}` : ''}`);
    this.last = null;
    this.started = NaN;
  }
}

/** One unit of work of a {@link StagedProgress} stage, e.g. one model; `weight` is its expected cost. */
export interface PlannedUnit {
  label: string;
  weight: number;
}

/** A stage of a {@link StagedProgress}: a name ("ranking models") and its units. */
export interface PlannedStage {
  name: string;
  units: PlannedUnit[];
}

/** Where a {@link StagedProgress} is: for messages such as "interrupted after …". */
export interface StagePosition {
  /** Names of the stages finished. */
  finished: string[];
  /** The stage running (null before the first and after the last). */
  stage: string | null;
  /** Units of the running stage finished, and its unit count. */
  unitsDone: number;
  units: number;
  /** The unit running, if any (null between units). */
  unit: string | null;
  elapsedSeconds: number;
}

/**
 * Overall progress over stages of weighted units, drawn as one status line:
 * `[2/4 ranking models] 5/11 Mult-VAE epoch 12/30 · elapsed 0:41 · ETA 0:35`.
 * The ETA extrapolates the elapsed time over the weighted share of work done (finished units plus the running
 * unit's own done/total), so weights need only be right relative to each other; "–" until some work is done.
 */
export class StagedProgress {
  private readonly line: StatusLine | null;
  private readonly now: () => number;
  private readonly t0: number;
  private stage = -1;
  private finishedStages = 0;
  private unit = -1;
  private unitFraction = 0;
  /** Whether the running unit has been reported finished (the next one has not started). */
  private unitFinished = false;
  private detail = '';

  /**
   * `visible` false: track the position (for messages) but draw nothing; `startedAt` (same clock as `now`):
   * when the work began, if before now (the elapsed time and ETA count from it).
   */
  constructor(private readonly stages: PlannedStage[], options: StatusOptions & { visible?: boolean; startedAt?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.t0 = options.startedAt ?? this.now();
    this.line = options.visible === false ? null : new StatusLine(options);
  }

  private get totalWeight(): number {
    return this.stages.reduce((s, st) => s + st.units.reduce((a, u) => a + u.weight, 0), 0);
  }

  /** Share of the weighted work done, in [0, 1]. */
  fraction(): number {
    const total = this.totalWeight;
    if (total <= 0) return 0;
    let done = 0;
    for (let s = 0; s < this.stages.length; s++) {
      const units = this.stages[s].units;
      for (let u = 0; u < units.length; u++) {
        if (s < this.stage || (s === this.stage && u < this.unit)) done += units[u].weight;
        else if (s === this.stage && u === this.unit) done += units[u].weight * this.unitFraction;
      }
    }
    return Math.min(1, done / total);
  }

  /** Seconds since the progress was created. */
  elapsed(): number {
    return (this.now() - this.t0) / 1000;
  }

  /** Estimated seconds left; NaN until some work is done. */
  eta(): number {
    const f = this.fraction();
    const dt = this.elapsed();
    if (!(f > 0) || dt <= 0) return NaN;
    return (dt * (1 - f)) / f;
  }

  /** Starts stage `name` (the next planned one with that name). */
  startStage(name: string): void {
    const k = this.stages.findIndex((s, j) => j > this.stage && s.name === name);
    if (k < 0) throw new Error(`progress: no planned stage "${name}" after stage ${this.stage + 1}`);
    this.finishedStages = Math.max(this.finishedStages, k);
    this.stage = k;
    this.unit = -1;
    this.unitFraction = 0;
    this.unitFinished = false;
    this.detail = '';
    this.draw();
  }

  /** Marks the stage's unit `label` as running (earlier units count as done). */
  startUnit(label: string): void {
    const units = this.stages[this.stage]?.units ?? [];
    const k = units.findIndex((u, j) => j >= this.unit && u.label === label);
    if (k < 0 || k === this.unit) return;
    this.unit = k;
    this.unitFraction = 0;
    this.unitFinished = false;
    this.detail = '';
    this.draw();
  }

  /** Marks the stage's unit `label` (and the ones before it) as finished. */
  finishUnit(label: string): void {
    const units = this.stages[this.stage]?.units ?? [];
    const k = units.findIndex((u, j) => j >= this.unit && u.label === label);
    if (k < 0) return;
    this.unit = k;
    this.unitFraction = 1;
    this.unitFinished = true;
    this.detail = 'done';
    this.draw();
  }

  /**
   * Progress of the running unit, shown as "epoch 12/30"; `fraction` is the share of the unit done (default
   * done/total; pass your own when a unit has several phases, e.g. fitting then scoring).
   */
  update(p: Progress, fraction?: number): void {
    const f = fraction ?? (p.total > 0 ? p.done / p.total : 0);
    this.unitFraction = Number.isFinite(f) ? Math.max(0, Math.min(1, f)) : 0;
    this.detail = `${p.phase} ${p.done}/${p.total}`;
    this.draw();
  }

  /** Ends the running stage. */
  finishStage(): void {
    if (this.stage < 0) return;
    this.finishedStages = Math.max(this.finishedStages, this.stage + 1);
    this.unit = this.stages[this.stage].units.length;
    this.unitFraction = 0;
    this.detail = '';
    this.draw();
  }

  /** The status text. */
  text(): string {
    const clock = `elapsed ${formatClock(this.elapsed())} · ETA ${formatClock(this.eta())}`;
    const st = this.stages[this.stage];
    if (!st) return clock;
    const u = st.units[this.unit];
    const unit = u ? ` ${this.unit + 1}/${st.units.length} ${u.label}${this.detail ? ` ${this.detail}` : ''}` : '';
    return `[${this.stage + 1}/${this.stages.length} ${st.name}]${unit} · ${clock}`;
  }

  private draw(): void {
    this.line?.set(this.text());
  }

  /** Writes `text` above the status line (to `target`, default the status stream). */
  print(text: string, target?: StatusStream): void {
    if (this.line) this.line.print(text, target);
    else printAbove(text, target);
  }

  /** Where the work is. */
  position(): StagePosition {
    const st = this.stages[this.stage];
    const running = st !== undefined && this.stage >= this.finishedStages;
    return {
      finished: this.stages.slice(0, this.finishedStages).map((s) => s.name),
      stage: running ? st.name : null,
      unitsDone: running ? Math.max(0, this.unit + (this.unitFinished ? 1 : 0)) : 0,
      units: running ? st.units.length : 0,
      unit: running && !this.unitFinished ? (st.units[this.unit]?.label ?? null) : null,
      elapsedSeconds: this.elapsed(),
    };
  }

  /** Removes the status line, leaving `summary` (when given) on its own line. */
  stop(summary?: string): void {
    this.line?.done(summary);
  }
}

/**
 * An AbortSignal that fires on the first Ctrl-C (SIGINT); a second Ctrl-C exits at once (code 130).
 * The notice is printed above any progress line, so redraws do not overwrite it. Call `dispose` when done.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    printAbove('stopping after the current step (Ctrl-C again to quit now)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
