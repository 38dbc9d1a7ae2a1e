import { MAX_EXTRAS, channelNameProblem, channelsProblem, toChannelName } from './channels';

describe('extra channel names', () => {
  test.each([
    ['pressure', undefined],
    ['Flow_m3h', undefined],
    ['x', undefined],
    [`a${'b'.repeat(31)}`, undefined],
    ['Current', undefined], // the features are matched exactly, as the schema names them
    ['current', /one of the six features; send it as the field current/],
    ['tempB', /one of the six features/],
    [`a${'b'.repeat(32)}`, /33 characters long, more than 32/],
    ['', /not a channel name/],
    ['2nd', /not a channel name/],
    ['_x', /not a channel name/],
    ['flow rate', /not a channel name/],
    ['flow-rate', /not a channel name/],
    ['débit', /not a channel name/],
  ])('%j: %s', (name, problem) => {
    const found = channelNameProblem(name);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  test('a reading carries at most 64, and the first bad name is named', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `ch${i}`);
    expect(channelsProblem(names(MAX_EXTRAS))).toBeUndefined();
    expect(channelsProblem(names(MAX_EXTRAS + 1))).toEqual({ code: 'too_many_channels', reason: '65 extra channels, more than the 64 a reading may carry' });
    expect(channelsProblem(['ok', 'not ok', 'tempA'])).toEqual({ code: 'bad_channel_name', reason: expect.stringMatching(/"not ok"/) });
  });

  test.each([
    ['Pressure', 'Pressure'],
    ['Volume Flow RateRMS', 'Volume_Flow_RateRMS'],
    ['  Pressure (bar) ', 'Pressure_bar'],
    ['flow-rate.m3/h', 'flow_rate_m3_h'],
    ['Température °C', 'Temperature_C'],
    ['2nd stage', 'c_2nd_stage'],
    ['_hidden_', 'hidden'],
    [`${'long_name_'.repeat(4)}x`, 'long_name_long_name_long_name_lo'],
    ['abcdefghijklmnopqrstuvwxyz12345_x', 'abcdefghijklmnopqrstuvwxyz12345'],
    ['%', undefined],
    ['', undefined],
  ])('toChannelName(%j) is %j', (column, name) => {
    expect(toChannelName(column)).toBe(name);
    if (name !== undefined) expect(channelNameProblem(name)).toBeUndefined();
  });
});
