import { useEffect, useState } from 'preact/hooks';
import type { SilenceView } from '../../../api/schemas';
import { parseDuration } from '../../../lib/duration';
import { getJson } from '../api';
import { SILENCE_DURATIONS, silenceCovers, silenceTarget } from '../alerts';
import { formatSpan } from '../format';
import { useChanges, useLoad, useStore } from '../hooks';
import { KINDS } from '../states';
import { Cancelled, endSilence, pendingEnds, pendingSilences, settleSilences, silence } from '../writes';
import { Ago, Empty, Problem, Time } from './common';

/** The API's pattern for a silence's machine: an id or a glob with `*`. */
const MACHINE_PATTERN = '[A-Za-z0-9*][A-Za-z0-9._:*\\-]{0,127}';
/** Longest silence the API takes (api/validation.ts MAX_SILENCE_MS). */
const MAX_SILENCE_MS = 31 * 86_400_000;

/** Silence a machine (id or glob) or a kind, or both, for a time, with a reason. */
export function SilenceForm({ machine: initialMachine = '' }: { machine?: string }) {
  const [machine, setMachine] = useState(initialMachine);
  const [kind, setKind] = useState('');
  const [duration, setDuration] = useState('2h');
  const [custom, setCustom] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const [sent, setSent] = useState<string>();
  const [busy, setBusy] = useState(false);

  const length = duration === 'custom' ? custom.trim() : duration;
  const lengthProblem = lengthProblemOf(length);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSent(undefined);
    if (!machine.trim() && !kind) return setError(new Error('give a machine (or pattern), a kind, or both'));
    if (lengthProblem) return setError(new Error(`duration: ${lengthProblem}`));
    setBusy(true);
    try {
      const target = machine.trim();
      await silence({ ...(target ? { machine: target } : {}), ...(kind ? { kind } : {}), for: length, reason: reason.trim() });
      setSent(
        `Silence of ${silenceTarget({ machine: target || null, kind: kind || null })} for ${formatSpan(parseDuration(length))} requested: it shows once recorded.`,
      );
      setReason('');
    } catch (err) {
      if (!(err instanceof Cancelled)) setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="silence-form" onSubmit={submit} aria-label="Silence">
      <label>
        Machine <span class="muted">(id or pattern such as pump-*)</span>
        <input
          type="text"
          name="machine"
          pattern={MACHINE_PATTERN}
          value={machine}
          placeholder="pump-3 or pump-*"
          onInput={(e) => setMachine(e.currentTarget.value)}
        />
      </label>
      <KindField kind={kind} setKind={setKind} />
      <DurationFields duration={duration} setDuration={setDuration} custom={custom} setCustom={setCustom} problem={lengthProblem} />
      <label class="wide">
        Reason
        <input
          type="text"
          name="reason"
          required
          maxLength={1000}
          placeholder="maintenance, a known fault, …"
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </label>
      <div class="buttons wide">
        <button type="submit" class="primary" disabled={busy}>
          Silence
        </button>
      </div>
      <Problem error={error} />
      {sent ? (
        <p class="note" role="status">
          {sent}
        </p>
      ) : null}
    </form>
  );
}

/** What is wrong with a silence's length (a duration such as 2h), if anything. */
function lengthProblemOf(length: string): string | undefined {
  try {
    if (parseDuration(length) > MAX_SILENCE_MS) return 'at most 31d';
  } catch (err) {
    return length === '' ? 'how long?' : (err as Error).message;
  }
  return undefined;
}

/** The silence form's kind: one kind, or every kind. */
function KindField({ kind, setKind }: { kind: string; setKind: (kind: string) => void }) {
  return (
    <label>
      Kind
      <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
        <option value="">every kind</option>
        {KINDS.map((k) => (
          <option value={k} key={k}>
            {k}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The silence form's length: one of the usual durations, or another one typed in (`problem` marks it invalid). */
function DurationFields(props: { duration: string; setDuration: (duration: string) => void; custom: string; setCustom: (custom: string) => void; problem: string | undefined }) {
  const { duration, setDuration, custom, setCustom, problem } = props;
  return (
    <>
      <label>
        For
        <select name="for" value={duration} onChange={(e) => setDuration(e.currentTarget.value)}>
          {SILENCE_DURATIONS.map((d) => (
            <option value={d} key={d}>
              {formatSpan(parseDuration(d))}
            </option>
          ))}
          <option value="custom">other…</option>
        </select>
      </label>
      {duration === 'custom' ? (
        <label>
          Duration <span class="muted">(such as 90m or 1d12h)</span>
          <input
            type="text"
            name="custom"
            required
            value={custom}
            onInput={(e) => setCustom(e.currentTarget.value)}
            aria-invalid={problem ? 'true' : 'false'}
          />
        </label>
      ) : null}
    </>
  );
}

/** The silences: active ones (each may be ended early), and the ended ones on request. */
export function SilenceList({ machine, hint = 'Silence a machine under maintenance with the form.' }: { machine?: string; hint?: string }) {
  const [showEnded, setShowEnded] = useState(false);
  const silences = useLoad((signal) => getJson<{ silences: SilenceView[] }>('/silences', { active: showEnded ? undefined : 'true' }, signal), [showEnded]);
  useChanges(['actions'], silences.reload);
  const pending = useStore(pendingSilences);
  useEffect(() => {
    if (silences.data) settleSilences(silences.data.silences);
  }, [silences.data]);
  const list = (silences.data?.silences ?? []).filter((s) => !machine || silenceCovers(s.machine, machine));

  return (
    <div class="silences">
      <div class="list-tools">
        <label class="check">
          <input type="checkbox" checked={showEnded} onChange={(e) => setShowEnded(e.currentTarget.checked)} /> show ended ones too
        </label>
      </div>
      <Problem error={silences.error} what="GET /silences" />
      <ul class="plain">
        {pending.map((p) => (
          <li class="silence pending" key={p.requestId}>
            <span class="muted">requested: {p.what} (recording…)</span>
          </li>
        ))}
        {list.map((s) => (
          <SilenceItem silence={s} key={s.silenceId} />
        ))}
      </ul>
      {silences.data && list.length === 0 && pending.length === 0 ? (
        <Empty>
          No {showEnded ? '' : 'active '}silence{machine ? ' covers this machine' : ''}. {hint}
        </Empty>
      ) : null}
    </div>
  );
}

function SilenceItem({ silence: s }: { silence: SilenceView }) {
  const ending = useStore(pendingEnds).has(s.silenceId);
  const [error, setError] = useState<unknown>();
  return (
    <li class={`silence ${s.active ? 'active' : 'ended'}`} data-testid="silence" data-silence-id={s.silenceId}>
      <div>
        <strong>{silenceTarget(s)}</strong>{' '}
        {s.active ? (
          <>
            until <Time iso={s.endsAt} /> (<Ago iso={s.endsAt} />)
          </>
        ) : s.endedAt ? (
          <>
            ended <Time iso={s.endedAt} /> by {s.endedBy}
          </>
        ) : Date.parse(s.startsAt) > Date.now() ? (
          <>
            from <Time iso={s.startsAt} />
          </>
        ) : (
          <>
            ran out <Time iso={s.endsAt} />
          </>
        )}
      </div>
      <div class="muted small">
        by {s.by} <Ago iso={s.requestedAt} />
        {s.reason ? ` — ${s.reason}` : ''}
      </div>
      {s.active ? (
        ending ? (
          <span class="muted">ending…</span>
        ) : (
          <button
            type="button"
            class="small"
            onClick={() => endSilence(s.silenceId).catch((err: unknown) => setError(err instanceof Cancelled ? undefined : err))}
          >
            End now
          </button>
        )
      ) : null}
      <Problem error={error} />
    </li>
  );
}
