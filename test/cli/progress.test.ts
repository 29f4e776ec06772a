import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressBar, StagedProgress, formatClock, interruptSignal, printAbove } from '../../src/cli/progress.js';
import { FakeTty } from './fake-tty.js';

/** Renders to a fake 80-column TTY installed as process.stderr, with a fake clock. */
describe('progress rendering on an 80-column terminal', () => {
  let tty: FakeTty;
  let saved: PropertyDescriptor | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    tty = new FakeTty(80);
    saved = Object.getOwnPropertyDescriptor(process, 'stderr');
    Object.defineProperty(process, 'stderr', { value: tty, configurable: true, writable: true });
  });
  afterEach(() => {
    if (saved) Object.defineProperty(process, 'stderr', saved);
    vi.useRealTimers();
  });
  const at = (ms: number): void => {
    vi.setSystemTime(ms);
    vi.advanceTimersByTime(0);
  };

  it('keeps every line within 79 columns and leaves nothing of a longer earlier line', () => {
    const bar = new ProgressBar(`Ranking models — per-user 80/20 holdout ${'x'.repeat(60)}`);
    bar.update({ phase: 'epoch', done: 0, total: 30 });
    at(1000);
    bar.update({ phase: 'epoch', done: 1, total: 30, metrics: { loss: 807.123, ndcg: 0.123456 } });
    for (const l of tty.lines()) expect(l.length).toBeLessThanOrEqual(79);
    expect(tty.lines()).toHaveLength(1);
    const short = new ProgressBar('fit');
    bar.stop();
    short.update({ phase: 'epoch', done: 1, total: 2 });
    // The short bar's line holds only its own text: nothing of the long label is left to its right.
    expect(tty.currentLine()).toMatch(/^fit epoch .*1\/2/);
    expect(tty.currentLine()).not.toMatch(/x{5}/);
    for (const l of tty.lines()) expect(l.length).toBeLessThanOrEqual(79);
    short.stop();
  });

  it('shows the ETA as "–" until a rate is known, then a clock time', () => {
    const bar = new ProgressBar('BPR');
    bar.update({ phase: 'epoch', done: 0, total: 30 });
    expect(tty.currentLine()).toMatch(/ETA –/);
    at(100);
    bar.update({ phase: 'epoch', done: 0, total: 30 });
    expect(tty.currentLine()).toMatch(/ETA –/);
    at(2000);
    bar.update({ phase: 'epoch', done: 1, total: 30 });
    expect(tty.currentLine()).toMatch(/ETA 0:58(?!\d)/); // 29 epochs left at 2 s each
    at(4000);
    bar.update({ phase: 'epoch', done: 2, total: 30 });
    expect(tty.currentLine()).toMatch(/ETA 0:56(?!\d)/);
    expect(tty.raw).not.toMatch(/ETA (0s|[A-Z]+s|NaN|Infinity)/);
    bar.stop();
  });

  it('leaves a finished bar\'s summary on its own line, the next bar below it', () => {
    const a = new ProgressBar('load kuairec-sample');
    a.update({ phase: 'reading', done: 0, total: 5 });
    at(1500);
    a.update({ phase: 'reading', done: 5, total: 5 });
    a.stop();
    const b = new ProgressBar('eda');
    b.update({ phase: 'counts', done: 1, total: 8 });
    const lines = tty.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^load kuairec-sample: reading 5\/5 done in 1\.50 s$/);
    expect(lines[1]).toMatch(/^eda counts .*1\/8/);
    b.stop();
  });

  it('keeps the Ctrl-C notice on its own line when the bar is redrawn', () => {
    const { dispose } = interruptSignal();
    try {
      const bar = new ProgressBar('Mult-VAE');
      bar.update({ phase: 'epoch', done: 3, total: 30 });
      tty.write('^C'); // what the terminal echoes at the cursor
      process.emit('SIGINT');
      at(500);
      bar.update({ phase: 'epoch', done: 4, total: 30 });
      const lines = tty.lines();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe('stopping after the current step (Ctrl-C again to quit now)');
      expect(lines[1]).toMatch(/^Mult-VAE epoch .*4\/30/);
      bar.stop();
    } finally {
      dispose();
    }
  });

  it('prints text above the status line and redraws it below', () => {
    const bar = new ProgressBar('iALS');
    bar.update({ phase: 'iteration', done: 2, total: 15 });
    printAbove('iALS: fit 0.55 s, scoring 0.02 s');
    const lines = tty.lines();
    expect(lines[0]).toBe('iALS: fit 0.55 s, scoring 0.02 s');
    expect(lines[1]).toMatch(/^iALS iteration .*2\/15/);
    bar.stop();
  });
});

describe('StagedProgress', () => {
  it('reads "[2/4 ranking models] 5/11 Mult-VAE epoch 12/30 · elapsed 0:41 · ETA …" and extrapolates by weight', () => {
    let t = 0;
    const tty = new FakeTty(80);
    const models = Array.from({ length: 11 }, (_, k) => ({ label: k === 4 ? 'Mult-VAE' : `m${k}`, weight: 1 }));
    const p = new StagedProgress([
      { name: 'EDA', units: [{ label: 'EDA', weight: 4 }] },
      { name: 'ranking models', units: models },
      { name: 'KuaiRec protocol', units: [{ label: 'x', weight: 5 }] },
      { name: 'rating models', units: [{ label: 'y', weight: 6 }] },
    ], { stream: tty, now: () => t });
    expect(p.text()).toBe('elapsed 0:00 · ETA –');
    p.startStage('EDA');
    expect(p.text()).toMatch(/ETA –$/);
    p.startStage('ranking models');
    for (const m of models.slice(0, 5)) p.startUnit(m.label);
    t = 41_000;
    p.update({ phase: 'epoch', done: 15, total: 30 });
    // Done: EDA 4 + four models 4 + half of Mult-VAE 0.5 = 8.5 of 26 → 41 s × 17.5 / 8.5 ≈ 84 s left.
    expect(p.text()).toBe('[2/4 ranking models] 5/11 Mult-VAE epoch 15/30 · elapsed 0:41 · ETA 1:24');
    expect(tty.currentLine()).toBe(p.text());
    expect(p.position()).toMatchObject({ finished: ['EDA'], stage: 'ranking models', unitsDone: 4, units: 11, unit: 'Mult-VAE' });
    p.finishUnit('Mult-VAE');
    expect(p.position()).toMatchObject({ stage: 'ranking models', unitsDone: 5, unit: null });
    p.finishStage();
    expect(p.position()).toMatchObject({ finished: ['EDA', 'ranking models'], stage: null });
    p.stop('done');
    expect(tty.lines()).toEqual(['done']);
  });

  it('formats clocks', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(35.4)).toBe('0:35');
    expect(formatClock(3725)).toBe('1:02:05');
    expect(formatClock(NaN)).toBe('–');
    expect(formatClock(Infinity)).toBe('–');
  });
});
