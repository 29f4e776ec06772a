import cliProgress from 'cli-progress';
import type { Progress } from '../core/progress.js';

/** A terminal progress bar with ETA; silent when stderr is not a TTY unless `force` is set. */
export class ProgressBar {
  private bar: cliProgress.SingleBar | null = null;
  private readonly enabled: boolean;
  private lastLine = 0;

  constructor(private readonly label: string, options: { force?: boolean } = {}) {
    this.enabled = options.force === true || process.stderr.isTTY === true;
  }

  /** Feeds one progress report (starts the bar on first call). */
  update(p: Progress): void {
    const metrics = p.metrics ? Object.entries(p.metrics).map(([k, v]) => `${k}=${formatMetric(v)}`).join(' ') : '';
    if (!this.enabled) {
      // Non-interactive: a plain line at most every 2 seconds and at the end.
      const now = Date.now();
      if (p.done === p.total || now - this.lastLine > 2000) {
        this.lastLine = now;
        process.stderr.write(`${this.label} ${p.phase} ${p.done}/${p.total} ${metrics}\n`);
      }
      return;
    }
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        { format: `${this.label} [{bar}] {percentage}% | {value}/{total} {phase} | ETA {eta_formatted} {metrics}`, hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.total, p.done, { phase: p.phase, metrics });
    } else {
      this.bar.setTotal(p.total);
      this.bar.update(p.done, { phase: p.phase, metrics });
    }
  }

  /** Ends the bar. */
  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function formatMetric(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(4);
}

/**
 * An AbortSignal that fires on the first Ctrl-C (SIGINT); a second Ctrl-C exits at once.
 * Call `dispose` when the work is over.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the current step (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
