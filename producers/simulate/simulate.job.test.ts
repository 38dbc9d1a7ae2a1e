import { parseFaultFlag, simulateOptions } from '../../cli/simulate.command';
import { FAULT_KINDS, buildFleet, type Fault } from './fleet';
import { Random } from './random';
import { parseFleet, parseSensors, planSimulation, scenarioKinds, truthLines, type SimulateOptions } from './simulate.job';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('scenarioKinds', () => {
  test('normal injects nothing; mixed injects every kind', () => {
    expect(scenarioKinds('normal')).toEqual([]);
    expect(scenarioKinds('mixed')).toEqual(FAULT_KINDS.filter((k) => k !== 'cavitation'));
  });

  test('a comma-separated list gives those kinds, spaces and empty items ignored', () => {
    expect(scenarioKinds('bearing-wear')).toEqual(['bearing-wear']);
    expect(scenarioKinds('bearing-wear, late ,,clock-skew')).toEqual(['bearing-wear', 'late', 'clock-skew']);
  });

  test.each([
    ['an unknown kind', 'bearing-wear,flood', /unknown scenario "flood"/],
    ['a misspelt kind among good ones', 'late,duplicate', /"duplicate"/],
    ['an empty scenario', '', /unknown scenario/],
    ['only commas', ' , ', /unknown scenario/],
  ])('refuses %s, naming it and listing the kinds', (_label, scenario, message) => {
    expect(() => scenarioKinds(scenario)).toThrow(message);
    expect(() => scenarioKinds(scenario)).toThrow(/normal, mixed, or any of bearing-wear/);
  });
});

describe('parseSensors and parseFleet', () => {
  test.each<[string, string[]]>([
    ['current,tempA', ['current', 'tempA']],
    ['tempA, current', ['current', 'tempA']], // in feature order
    ['TEMPA,tempa,accx', ['accX', 'tempA']], // any case, no repeats
    ['current,accX,accY,accZ,tempA,tempB', ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB']],
  ])('%s', (text, expected) => {
    expect(parseSensors(text)).toEqual(expected);
  });

  test.each([
    ['an unknown feature', 'current,temp', /unknown sensor "temp" in --sensors/],
    ['nothing', '', /unknown sensor ""/],
    ['only commas', ',,', /unknown sensor/],
  ])('--sensors refuses %s, listing the features', (_label, text, message) => {
    expect(() => parseSensors(text)).toThrow(message);
    expect(() => parseSensors(text)).toThrow(/use one or more of current, accX, accY, accZ, tempA, tempB/);
  });

  test('--fleet is uniform or heterogeneous', () => {
    expect(parseFleet('heterogeneous')).toBe('heterogeneous');
    expect(() => parseFleet('mixed')).toThrow('--fleet is uniform or heterogeneous, not mixed');
  });
});

describe('parseFaultFlag (--fault)', () => {
  const onsetMs = Date.UTC(2026, 0, 7, 8);
  test.each<[string, string, ReturnType<typeof parseFaultFlag>]>([
    ['onset only', 'robot-arm-02:overheating:2026-01-07T08:00:00Z', { machineId: 'robot-arm-02', kind: 'overheating', onsetMs }],
    [
      'onset and failure',
      'lathe-1-spindle:bearing-wear:2026-01-07T08:00:00Z:2026-01-10T20:30:00Z',
      { machineId: 'lathe-1-spindle', kind: 'bearing-wear', onsetMs, failureMs: Date.UTC(2026, 0, 10, 20, 30) },
    ],
    ['times without a zone (UTC)', 'pump-04:electrical:2026-01-07T08:00:2026-01-08T08:00', { machineId: 'pump-04', kind: 'electrical', onsetMs, failureMs: onsetMs + DAY }],
    [
      'times with offsets',
      'pump-04:electrical:2026-01-07T09:00:00+01:00:2026-01-08T09:00:00+01:00',
      { machineId: 'pump-04', kind: 'electrical', onsetMs, failureMs: onsetMs + DAY },
    ],
  ])('%s', (_label, text, expected) => {
    expect(parseFaultFlag(text)).toEqual(expected);
  });

  test.each([
    ['no onset', 'lathe-1-spindle:overheating', /use MACHINE:KIND:ONSET\[:FAILURE\]/],
    ['a sensor fault kind', 'lathe-1-spindle:sensor-stuck:2026-01-07T08:00:00Z', /"sensor-stuck" is not a machine fault: use bearing-wear, overheating, electrical/],
    ['an onset that is not a time', 'lathe-1-spindle:overheating:tuesday', /lathe-1-spindle:overheating onset "tuesday" is not an ISO-8601 time/],
    ['a failure that is not a time', 'lathe-1-spindle:overheating:2026-01-07T08:00:00Z:2026-02-31Tlate', /failure "2026-02-31Tlate"/],
    ['three times', 'lathe-1-spindle:overheating:2026-01-07:2026-01-08:2026-01-09', /use MACHINE:KIND:ONSET/],
  ])('refuses %s', (_label, text, message) => {
    expect(() => parseFaultFlag(text)).toThrow(message);
  });
});

describe('truthLines', () => {
  const onsetMs = Date.UTC(2026, 0, 6, 8);
  const faults: Fault[] = [
    { machineId: 'lathe-1-spindle', kind: 'bearing-wear', category: 'machine', onsetMs, failureMs: onsetMs + 72 * HOUR, endMs: onsetMs + 80 * HOUR },
    { machineId: 'robot-arm-02', kind: 'sensor-dropout', category: 'sensor', onsetMs, failureMs: null, endMs: onsetMs + 3 * HOUR, feature: 'tempA' },
    { machineId: 'cnc-mill-5-axis', kind: 'clock-skew', category: 'transport', onsetMs, failureMs: null, endMs: onsetMs + HOUR, magnitude: -45_000 },
  ];

  test('one JSON object a line, with ISO-8601 UTC times', () => {
    const lines = truthLines(faults).split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { machineId: 'lathe-1-spindle', kind: 'bearing-wear', category: 'machine', onset: '2026-01-06T08:00:00.000Z', failureAt: '2026-01-09T08:00:00.000Z', end: '2026-01-09T16:00:00.000Z' },
      { machineId: 'robot-arm-02', kind: 'sensor-dropout', category: 'sensor', onset: '2026-01-06T08:00:00.000Z', failureAt: null, end: '2026-01-06T11:00:00.000Z', feature: 'tempA' },
      { machineId: 'cnc-mill-5-axis', kind: 'clock-skew', category: 'transport', onset: '2026-01-06T08:00:00.000Z', failureAt: null, end: '2026-01-06T09:00:00.000Z', magnitude: -45_000 },
    ]);
  });

  test('given the fleet, each line names the sensors of its machine', () => {
    const fleet = buildFleet(3, new Random(1), { sensors: ['tempA', 'accX'] });
    const lines = truthLines(faults, fleet).split('\n').map((line) => JSON.parse(line) as { sensors: string[] });
    expect(lines.map((l) => l.sensors)).toEqual([['accX', 'tempA'], ['accX', 'tempA'], ['accX', 'tempA']]);
  });

  test('a planned run gives one line per fault; failureAt is set exactly for machine faults', () => {
    const { faults: planned } = planSimulation(options({ machines: 10, scenario: 'mixed', faultyFraction: 0.3 }));
    const lines = truthLines(planned).split('\n').map((line) => JSON.parse(line) as { category: string; failureAt: string | null; onset: string });
    expect(lines).toHaveLength(planned.length);
    for (const line of lines) {
      expect(line.onset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      if (line.category === 'machine') expect(line.failureAt).toMatch(/Z$/);
      else expect(line.failureAt).toBeNull();
    }
    expect(lines.filter((l) => l.category === 'machine')).toHaveLength(3);
  });
});

const FROM = Date.UTC(2026, 0, 5);
function options(overrides: Partial<SimulateOptions> = {}): SimulateOptions {
  return { machines: 3, intervalMs: 60_000, fromMs: FROM, toMs: FROM + 30 * DAY, speed: 'max', scenario: 'mixed', seed: 1, faultyFraction: 0.3, ...overrides };
}

describe('planSimulation', () => {
  test('is a pure function of the options: same seed, same fleet and faults', () => {
    expect(planSimulation(options({ seed: 7 }))).toEqual(planSimulation(options({ seed: 7 })));
    expect(planSimulation(options({ seed: 7 })).faults).not.toEqual(planSimulation(options({ seed: 8 })).faults);
  });

  test('requested faults come after the planned ones, which stay as the seed plans them', () => {
    const onsetMs = FROM + 5 * DAY;
    const base = planSimulation(options({ machines: 6 }));
    const withFault = planSimulation(options({ machines: 6, faults: [{ machineId: 'pump-04', kind: 'overheating', onsetMs }] }));
    expect(withFault.faults.slice(0, -1)).toEqual(base.faults);
    const requested = { machineId: 'pump-04', kind: 'overheating', category: 'machine', onsetMs, failureMs: onsetMs + 42 * HOUR, endMs: onsetMs + 50 * HOUR };
    expect(withFault.faults.at(-1)).toEqual(requested);
  });

  test('scenario normal with a requested fault: that fault alone, in the truth with the machine\'s sensors', () => {
    const onsetMs = FROM + 2 * DAY;
    const faults = [{ machineId: 'pump-04', kind: 'overheating', onsetMs, failureMs: onsetMs + DAY }] as const;
    const plan = planSimulation(options({ machines: 8, scenario: 'normal', fleet: 'heterogeneous', faults }));
    expect(plan.faults).toHaveLength(1);
    expect(JSON.parse(truthLines(plan.faults, plan.machines))).toEqual({
      machineId: 'pump-04',
      kind: 'overheating',
      category: 'machine',
      onset: '2026-01-07T00:00:00.000Z',
      failureAt: '2026-01-08T00:00:00.000Z',
      end: '2026-01-08T08:00:00.000Z',
      sensors: ['tempA'],
    });
  });

  test('an endless realtime run plans its faults over the first 30 days', () => {
    const { faults } = planSimulation(options({ speed: 'realtime', toMs: Infinity, faultyFraction: 1, scenario: 'bearing-wear,overheating,electrical' }));
    expect(faults).toHaveLength(3);
    for (const fault of faults) expect(fault.failureMs!).toBeLessThan(FROM + 30 * DAY);
  });
});

describe('simulateOptions (pdmctl simulate flags)', () => {
  type Flags = Parameters<typeof simulateOptions>[0];
  const NOW = Date.UTC(2026, 2, 14, 12, 34, 56, 789);
  const flags = (overrides: Partial<Flags> = {}): Flags => ({ machines: '3', interval: '2s', speed: 'max', scenario: 'mixed', seed: '1', faultyFraction: '0.3', ...overrides });

  test('max speed defaults to the day before now, its start aligned to the interval', () => {
    const result = simulateOptions(flags(), NOW);
    expect(result).toEqual({
      machines: 3,
      intervalMs: 2000,
      fromMs: Date.UTC(2026, 2, 13, 12, 34, 56),
      toMs: NOW,
      speed: 'max',
      scenario: 'mixed',
      seed: 1,
      faultyFraction: 0.3,
      truthFile: undefined,
      sensors: ['current', 'accX', 'accY', 'accZ', 'tempA', 'tempB'],
      fleet: 'uniform',
      faults: [],
    });
    expect(simulateOptions(flags({ interval: '1m' }), NOW).fromMs).toBe(Date.UTC(2026, 2, 13, 12, 34));
    expect(simulateOptions(flags({ interval: '1h', duration: '7d' }), NOW).fromMs).toBe(Date.UTC(2026, 2, 7, 12));
  });

  test('realtime without a duration starts now (aligned) and never ends; with one it ends after it', () => {
    const endless = simulateOptions(flags({ speed: 'realtime', interval: '10s' }), NOW);
    expect([endless.fromMs, endless.toMs]).toEqual([Date.UTC(2026, 2, 14, 12, 34, 50), Infinity]);
    const bounded = simulateOptions(flags({ speed: 'realtime', duration: '2h' }), NOW);
    expect(bounded.toMs).toBe(NOW + 2 * HOUR);
  });

  const T0 = '2026-01-05T00:00:00Z';
  const T0_MS = Date.UTC(2026, 0, 5);
  test.each<[string, Partial<Flags>, number, number]>([
    ['--from and --to', { from: T0, to: '2026-01-08T00:00:00Z' }, T0_MS, T0_MS + 3 * DAY],
    ['--from and --duration', { from: T0, duration: '30d' }, T0_MS, T0_MS + 30 * DAY],
    ['--to and --duration', { to: '2026-01-08T00:00:00Z', duration: '2d' }, T0_MS + DAY, T0_MS + 3 * DAY],
    ['--to alone (a day)', { to: '2026-01-08T00:00:00Z' }, T0_MS + 2 * DAY, T0_MS + 3 * DAY],
    ['--from alone at max speed (until now)', { from: T0 }, T0_MS, NOW],
    ['--from alone at realtime (endless)', { from: T0, speed: 'realtime' }, T0_MS, Infinity],
    ['--duration alone at max speed', { duration: '6h', interval: '1m' }, Date.UTC(2026, 2, 14, 6, 34), NOW],
    ['--from with an offset, aligned down', { from: '2026-01-05T01:00:07+01:00', to: '2026-01-05T01:00:00Z', interval: '1m' }, T0_MS, T0_MS + HOUR],
  ])('%s', (_label, overrides, fromMs, toMs) => {
    const result = simulateOptions(flags(overrides), NOW);
    expect([result.fromMs, result.toMs]).toEqual([fromMs, toMs]);
  });

  test('--sensors, --fleet and --fault (repeated) become the fleet options', () => {
    const fault = ['robot-arm-02:electrical:2026-01-06T06:00:00Z', 'lathe-1-spindle:overheating:2026-01-07T08:00:00Z:2026-01-08T08:00:00Z'];
    const result = simulateOptions(flags({ from: T0, duration: '10d', sensors: 'tempA,current', fault }), NOW);
    expect(result).toMatchObject({
      sensors: ['current', 'tempA'],
      fleet: 'uniform',
      faults: [
        { machineId: 'robot-arm-02', kind: 'electrical', onsetMs: T0_MS + DAY + 6 * HOUR },
        { machineId: 'lathe-1-spindle', kind: 'overheating', onsetMs: T0_MS + 2 * DAY + 8 * HOUR, failureMs: T0_MS + 3 * DAY + 8 * HOUR },
      ],
    });
    expect(simulateOptions(flags({ fleet: 'heterogeneous' }), NOW).fleet).toBe('heterogeneous');
  });

  test('passes through scenario, seed, fraction and truth file', () => {
    const result = simulateOptions(flags({ machines: '20', scenario: 'bearing-wear,late', seed: '42', faultyFraction: '0', truth: 'truth.jsonl' }), NOW);
    expect(result).toMatchObject({ machines: 20, scenario: 'bearing-wear,late', seed: 42, faultyFraction: 0, truthFile: 'truth.jsonl' });
  });

  test.each<[string, Partial<Flags>, RegExp]>([
    ['zero machines', { machines: '0' }, /--machines must be a positive whole number, not 0/],
    ['negative machines', { machines: '-3' }, /--machines/],
    ['machines that are not a number', { machines: 'many' }, /--machines .* not many/],
    ['a fractional number of machines', { machines: '2.5' }, /--machines .* not 2\.5/],
    ['machines with trailing garbage', { machines: '3x' }, /--machines .* not 3x/],
    ['an unknown speed', { speed: 'fast' }, /--speed is max or realtime, not fast/],
    ['a faulty fraction above 1', { faultyFraction: '1.5' }, /--faulty-fraction is between 0 and 1, not 1\.5/],
    ['a negative faulty fraction', { faultyFraction: '-0.1' }, /--faulty-fraction/],
    ['a faulty fraction that is not a number', { faultyFraction: 'some' }, /--faulty-fraction .* not some/],
    ['a seed that is not a whole number', { seed: 'abc' }, /--seed .* not abc/],
    ['a --from that is not a time', { from: 'yesterday' }, /--from "yesterday" is not an ISO-8601 time/],
    ['a --to that is not a time', { to: '2026-13-45' }, /--to "2026-13-45"/],
    ['--to before --from', { from: '2026-01-05T00:00:00Z', to: '2026-01-04T00:00:00Z' }, /time range is empty/],
    ['--to equal to --from', { from: '2026-01-05T00:00:00Z', to: '2026-01-05T00:00:00Z' }, /time range is empty/],
    ['all three of --from, --to and --duration', { from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z', duration: '1d' }, /give two of --from, --to and --duration/],
    ['a bad duration', { duration: 'forever' }, /"forever" is not a duration/],
    ['a bad interval', { interval: '0s' }, /"0s" must be longer than zero/],
    ['an unknown scenario', { scenario: 'earthquake' }, /unknown scenario "earthquake"/],
    ['an unknown sensor', { sensors: 'current,vibration' }, /unknown sensor "vibration" in --sensors: use one or more of current, accX/],
    ['an unknown fleet', { fleet: 'mixed' }, /--fleet is uniform or heterogeneous, not mixed/],
    ['--sensors with --fleet heterogeneous', { sensors: 'tempA', fleet: 'heterogeneous' }, /not both/],
    ['a fault on a machine not in the fleet', { fault: ['pump-04:overheating:2026-03-14T00:00:00Z'] }, /no machine pump-04 in this fleet of 3/],
    ['a fault after the run', { to: '2026-01-08T00:00:00Z', fault: ['lathe-1-spindle:overheating:2026-01-09T00:00:00Z'] }, /onset is not before the end of the run/],
    ['a fault failing before its onset', { fault: ['lathe-1-spindle:overheating:2026-03-14T00:00:00Z:2026-03-13T00:00:00Z'] }, /failure must come after the onset/],
  ])('refuses %s', (_label, overrides, message) => {
    expect(() => simulateOptions(flags(overrides), NOW)).toThrow(message);
  });
});

describe('simulateOptions and time zones', () => {
  test('a --from without a zone is UTC, whatever the machine\'s zone', () => {
    const base = { machines: '1', interval: '2s', speed: 'max', scenario: 'normal', seed: '1', faultyFraction: '0.3' };
    const options = simulateOptions({ ...base, from: '2026-01-05T00:00', duration: '1h' }, Date.UTC(2026, 5, 1));
    expect(options.fromMs).toBe(Date.UTC(2026, 0, 5));
    expect(simulateOptions({ ...base, from: '2026-01-05T00:00:00+02:00', duration: '1h' }, Date.UTC(2026, 5, 1)).fromMs).toBe(Date.UTC(2026, 0, 4, 22));
  });
});
