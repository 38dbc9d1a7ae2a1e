'use strict';
/**
 * kafkajs 2.2.4 schedules timers with negative delays, which Node 24 reports as
 * TimeoutNegativeWarning on every run (the timer still fires at once, as kafkajs meant). That one
 * warning is dropped; every other warning is printed as Node would.
 */
function silenceKnownWarnings() {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    for (const listener of listeners) listener(warning);
  });
}
module.exports = { silenceKnownWarnings };
