#!/usr/bin/env node
'use strict';
// npm scripts and npx put node_modules/.bin first on PATH, where `npm ci` installed a supported
// Node (the `node` package); a bare `node bin/pdmctl.js` on an older system Node lands here.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `pdmctl needs Node 22 or 24; this is ${process.version}.\n` +
      'Run it as `npx pdmctl ...` or through `npm run`/`npm start`, which use the Node that `npm ci` installed.',
  );
  process.exit(1);
}
require('../lib/node-warnings').silenceKnownWarnings();
require('tsx/cjs');
require('../cli/main.ts');
