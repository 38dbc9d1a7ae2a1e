import { movedKinds, parseChange, SseParser } from './sse';

describe('SseParser', () => {
  const frame = 'event: change\ndata: {"alerts":null,"windows":"2026-01-05T10:00:00.000Z","actions":null}\n\n';

  it("reads the API's frames: the opening comment and retry, a change, a heartbeat", () => {
    const parser = new SseParser();
    const events = parser.push(`: pdm-stream changes\nretry: 2000\n\n${frame}: keep-alive\n\n`);
    expect(events).toEqual([{ event: 'change', data: '{"alerts":null,"windows":"2026-01-05T10:00:00.000Z","actions":null}' }]);
    expect(parser.retryMs).toBe(2000);
  });

  it('gives the same events however the text is cut into chunks', () => {
    const text = `${frame}${frame.replace(/\n/g, '\r\n')}${frame.replace(/\n/g, '\r')}`;
    const whole = new SseParser().push(text);
    expect(whole).toHaveLength(3);
    for (const size of [1, 2, 3, 7, 50]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events).toEqual(whole);
    }
  });

  it('joins data lines with a newline, names an unnamed event message, keeps the id', () => {
    expect(new SseParser().push('id: 7\ndata: a\ndata:b\n\n')).toEqual([{ event: 'message', data: 'a\nb', id: '7' }]);
  });

  it('dispatches nothing for an event without data, nor before its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('event: change\n\n')).toEqual([]);
    expect(parser.push('event: change\ndata: {}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'change', data: '{}' }]);
  });

  it('ignores a retry that is not a number', () => {
    const parser = new SseParser();
    parser.push('retry: soon\n\n');
    expect(parser.retryMs).toBeUndefined();
  });
});

describe('parseChange', () => {
  it('takes the three times, each an ISO time or null', () => {
    expect(parseChange('{"alerts":"2026-01-05T10:00:00Z","windows":null,"actions":null}')).toEqual({
      alerts: '2026-01-05T10:00:00Z',
      windows: null,
      actions: null,
    });
  });

  it.each(['not json', 'null', '[]', '{"alerts":5,"windows":null,"actions":null}', '{"alerts":null,"windows":"yesterday","actions":null}', '{"alerts":null}'])(
    'refuses %s',
    (data) => {
      expect(parseChange(data)).toBeUndefined();
    },
  );
});

describe('movedKinds', () => {
  const before = { alerts: '2026-01-05T10:00:00Z', windows: '2026-01-05T10:00:00Z', actions: null };

  it('names what moved', () => {
    expect([...movedKinds(before, { ...before, windows: '2026-01-05T11:00:00Z' })]).toEqual(['windows']);
    expect([...movedKinds(before, { ...before, actions: '2026-01-05T10:30:00Z' })]).toEqual(['actions']);
    expect(movedKinds(before, { ...before }).size).toBe(0);
  });

  it('names everything when there is nothing to compare with', () => {
    expect([...movedKinds(undefined, before)]).toEqual(['alerts', 'windows', 'actions']);
  });
});
