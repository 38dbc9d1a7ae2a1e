// Runs in every integration test worker before its tests.
require('../../lib/node-warnings').silenceKnownWarnings();
