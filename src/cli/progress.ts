/**
 * A progress bar on stderr for long CLI jobs. On a terminal it redraws one line in place; when forced
 * on elsewhere (a log file, a CI job) it prints a plain line at most every tenth of the work, so logs
 * stay short. stdout is left alone for results (CSV, JSON) that scripts read.
 */
export interface ProgressOptions {
  /** Show even when the stream is not a terminal. */
  force?: boolean;
  stream?: NodeJS.WriteStream;
  /** What is being counted, e.g. "images". */
  unit?: string;
}

const WIDTH = 24;

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private readonly unit: string;
  private readonly start = performance.now();
  private done = 0;
  private lastLoggedTenth = -1;

  constructor(
    private readonly total: number,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.enabled = this.tty || opts.force === true;
    this.unit = opts.unit ?? 'items';
  }

  /** Records `n` more finished items and redraws (`advance(0)` draws the empty bar on a terminal). */
  advance(n: number): void {
    this.done = Math.min(this.total, this.done + n);
    if (!this.enabled || (!this.tty && n === 0)) return;
    if (this.tty) {
      this.stream.write(`\r${this.line()}\x1b[K`);
      return;
    }
    const tenth = Math.floor((this.done / this.total) * 10);
    if (tenth > this.lastLoggedTenth) {
      this.lastLoggedTenth = tenth;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Ends the bar's line on a terminal, so what follows starts on a fresh one. */
  finish(): void {
    if (this.enabled && this.tty) this.stream.write('\n');
  }

  private line(): string {
    const frac = this.total ? this.done / this.total : 1;
    const filled = Math.round(frac * WIDTH);
    const secs = (performance.now() - this.start) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const eta =
      rate > 0 && this.done < this.total ? `, ${((this.total - this.done) / rate).toFixed(0)} s left` : '';
    return (
      `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${this.done}/${this.total} ${this.unit}` +
      ` (${rate.toFixed(1)}/s${eta})`
    );
  }
}
