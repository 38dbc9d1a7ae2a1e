import { spawnSync } from 'node:child_process';
import { renderExports } from './stack';

describe('renderExports', () => {
  test('quotes every value so that any POSIX shell reads it back unchanged', () => {
    const env = { A: 'plain', B: "it's got 'quotes'", C: 'x;$(rm -rf /)`y` $HOME', D: '' };
    const script = `${renderExports(env)}\nprintf '%s\\n' "$A" "$B" "$C" "$D"`;
    const out = spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout;
    expect(out).toBe(`plain\nit's got 'quotes'\nx;$(rm -rf /)\`y\` $HOME\n\n`);
  });
});
