const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Shows that long work (a rebuild, a replay) is going on: a spinner with the elapsed time on a
 * terminal, one line before and after otherwise, always on stderr so stdout stays parseable.
 */
export async function withProgress<T>(label: string, work: () => Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (!stream.isTTY) {
    // No spinner off a terminal, and no line before the work either: a failure stays one line.
    const result = await work();
    stream.write(`${label}: done in ${elapsed()}\n`);
    return result;
  }
  let frame = 0;
  const draw = () => stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${elapsed()}`);
  draw();
  const timer = setInterval(draw, 100);
  try {
    const result = await work();
    stream.write(`\r✔ ${label} done in ${elapsed()}\x1b[K\n`);
    return result;
  } catch (error) {
    stream.write(`\r✖ ${label} failed after ${elapsed()}\x1b[K\n`);
    throw error;
  } finally {
    clearInterval(timer);
  }
}
