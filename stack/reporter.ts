/**
 * How stack operations tell a person what happens. The CLI prints to the terminal; tests pass a
 * quiet one. Progress lines overwrite themselves on a terminal and are thinned out in CI logs.
 */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  progress(message: string): void;
  done(): void;
}

export const quietReporter: Reporter = { info() {}, warn() {}, progress() {}, done() {} };

export function terminalReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  const tty = Boolean(stream.isTTY);
  let open = false;
  let lastPlain = 0;
  const clear = () => {
    if (open && tty) stream.write('\r\x1b[K');
    open = false;
  };
  return {
    info(message) {
      clear();
      stream.write(`${message}\n`);
    },
    warn(message) {
      clear();
      stream.write(`warning: ${message}\n`);
    },
    progress(message) {
      if (tty) {
        stream.write(`\r\x1b[K${message.slice(0, (stream.columns ?? 100) - 1)}`);
        open = true;
      } else if (Date.now() - lastPlain > 5000) {
        stream.write(`${message}\n`);
        lastPlain = Date.now();
      }
    },
    done() {
      clear();
    },
  };
}
