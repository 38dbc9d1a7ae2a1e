import { isState, markerColour, STATE_INFO, STATES, mostSevere } from './states';

describe('states', () => {
  it('lists every state once, most urgent first', () => {
    expect(STATES).toEqual(['at-risk', 'silent', 'warming-up', 'off', 'ok', 'unknown']);
    for (const state of STATES) expect(STATE_INFO[state].label).not.toBe('');
  });

  it('knows its own states only', () => {
    expect(isState('at-risk')).toBe(true);
    expect(isState('toString')).toBe(false);
  });

  it('colours a marker by severity while firing, green once resolved', () => {
    expect(markerColour('FIRING', 'CRITICAL')).not.toBe(markerColour('FIRING', 'WARNING'));
    expect(markerColour('RESOLVED', 'CRITICAL')).toBe(markerColour('RESOLVED', 'INFO'));
  });
});

describe('mostSevere', () => {
  const alert = (id: string, severity: string) => ({ id, severity });
  test('the most severe, the first (newest) of equals; unknown severities last; none for none', () => {
    expect(mostSevere([alert('a', 'INFO'), alert('b', 'WARNING'), alert('c', 'WARNING')])?.id).toBe('b');
    expect(mostSevere([alert('a', 'INFO'), alert('b', 'CRITICAL')])?.id).toBe('b');
    expect(mostSevere([alert('a', 'LOUD'), alert('b', 'INFO')])?.id).toBe('b');
    expect(mostSevere([])).toBeUndefined();
  });
});
