// A status line on stderr for a long run: shown only on a terminal (a log or a pipe gets nothing
// to strip) and only once the run has taken a second, so that quick runs stay silent.
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private status = '';
  private shown = false;
  private readonly started: number;
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly now: () => number = Date.now,
    interval = 200,
  ) {
    this.started = now();
    if (stream.isTTY === true && interval > 0) {
      this.timer = setInterval(() => this.tick(), interval);
      // A status line never keeps the process alive.
      this.timer.unref();
    }
  }

  /** What is happening now, e.g. `computing: 3/8 batch items (37%)`. */
  set(status: string): void {
    this.status = status;
  }

  /** Redraws the line (the timer calls it). */
  tick(): void {
    const elapsed = (this.now() - this.started) / 1000;
    if (this.stream.isTTY !== true || elapsed < 1) return;
    this.stream.write(`\r\x1b[K${this.label}: ${this.status}, ${elapsed.toFixed(1)} s`);
    this.shown = true;
  }

  /** Stops and clears the line, so the next output (an error, the shell's prompt) starts clean. */
  done(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
