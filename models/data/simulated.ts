import type { SensorReading, WindowFeatures } from '../../schemas';
import { planSimulation, type SimulateOptions } from '../../producers/simulate/simulate.job';
import type { Fault } from '../../producers/simulate/fleet';
import { simulate } from '../../producers/simulate/simulator';
import { closeIdle, emptyPartition, processReading, type WindowConfig } from '../../processors/window/window';

/**
 * Training and evaluation data without Kafka: the seeded fleet simulator's readings, windowed by
 * the window processor's own pure rule. Same options, same windows.
 */

export interface SimulatedWindows {
  windows: WindowFeatures[];
  faults: Fault[];
  readings: number;
}

export type SimulatedOptions = Omit<SimulateOptions, 'speed' | 'truthFile'>;

export function simulateWindows(options: SimulatedOptions, window: WindowConfig, onProgress?: (doneMs: number, totalMs: number) => void): SimulatedWindows {
  const { machines, faults } = planSimulation({ ...options, speed: 'max' });
  const state = emptyPartition();
  const windows: WindowFeatures[] = [];
  let readings = 0;
  let ticks = 0;
  for (const tick of simulate({ machines, faults, fromMs: options.fromMs, toMs: options.toMs, intervalMs: options.intervalMs, seed: options.seed })) {
    for (const reading of tick.readings) {
      readings++;
      // A machine without extra channels sends none; on the wire the field defaults to {}.
      reading.extras ??= {};
      windows.push(...processReading(state, reading as SensorReading, window).closed);
    }
    if (onProgress && ++ticks % 2000 === 0) onProgress(tick.tickMs - options.fromMs, options.toMs - options.fromMs);
  }
  windows.push(...closeIdle(state, window));
  onProgress?.(options.toMs - options.fromMs, options.toMs - options.fromMs);
  return { windows, faults, readings };
}
