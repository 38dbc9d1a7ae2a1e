import { SingleBar } from 'cli-progress';

/**
 * Progress of long work for a person: a bar on a terminal, a line every few seconds in a log.
 */
export interface Progress {
  update(done: number, detail: string): void;
  stop(): void;
}

export function progressBar(total: number, label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar({ stream, format: `${label} [{bar}] {percentage}% | {detail}`, hideCursor: true, clearOnComplete: false, barsize: 30, fps: 5 });
    bar.start(total, 0, { detail: '' });
    return { update: (done, detail) => bar.update(Math.min(done, total), { detail }), stop: () => bar.stop() };
  }
  let last = 0;
  return {
    update(done, detail) {
      if (Date.now() - last < 5000) return;
      last = Date.now();
      stream.write(`${label} ${Math.floor((100 * Math.min(done, total)) / total)}% | ${detail}\n`);
    },
    stop() {},
  };
}
