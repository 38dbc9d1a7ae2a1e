import path from 'node:path';

/** The repository root: every relative default (state folder, models, schemas) hangs off it. */
export const repoRoot = path.resolve(__dirname, '..');
