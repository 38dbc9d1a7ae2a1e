import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildConsole } from './build-console';

describe('buildConsole', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'pdm-console-'));
  });
  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('writes a page that loads only its own bundle and stylesheet, minified, with source maps', async () => {
    const built = await buildConsole({ outDir });
    expect(Object.keys(built.files)).toEqual(expect.arrayContaining(['app.css', 'app.css.map', 'app.js', 'app.js.map', 'index.html']));
    const html = await readFile(path.join(outDir, 'index.html'), 'utf8');
    expect(html).toContain(`src="app.js?v=${built.hash}"`);
    expect(html).toContain(`href="app.css?v=${built.hash}"`);
    // Offline: nothing is fetched from anywhere but the API's own origin.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const js = await readFile(path.join(outDir, 'app.js'), 'utf8');
    expect(js).toMatch(/\/\/# sourceMappingURL=app\.js\.map\s*$/);
    const css = await readFile(path.join(outDir, 'app.css'), 'utf8');
    expect(css).toContain('.uplot');
  });

  it('keeps the bundle small: Preact, uPlot and the console, and no server code (zod, express)', async () => {
    const { files } = await buildConsole({ outDir });
    expect(files['app.js']).toBeLessThan(180 * 1024);
    const js = await readFile(path.join(outDir, 'app.js'), 'utf8');
    expect(js).not.toMatch(/ZodError|express/);
  });
});
