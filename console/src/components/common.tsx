import type { ComponentChildren } from 'preact';
import type { MachineStateView } from '../../../api/schemas';
import { ApiProblem, problemText } from '../api';
import { formatLocal, formatNumber, formatUtc, relativeTime, toMs } from '../format';
import { useNow } from '../hooks';
import { severityClass, STATE_INFO, statusClass } from '../states';

/** A time in the browser's zone, UTC on hover. */
export function Time({ iso, seconds }: { iso: string | null | undefined; seconds?: boolean }) {
  const ms = toMs(iso);
  if (ms === null) return <span class="muted">—</span>;
  return (
    <time dateTime={iso!} title={formatUtc(ms)}>
      {formatLocal(ms, { seconds })}
    </time>
  );
}

/** "5 min ago", kept true as time passes; the local and UTC times on hover. */
export function Ago({ iso }: { iso: string | null | undefined }) {
  const now = useNow();
  const ms = toMs(iso);
  if (ms === null) return <span class="muted">never</span>;
  return (
    <time dateTime={iso!} title={`${formatLocal(ms, { seconds: true })} (${formatUtc(ms)})`}>
      {relativeTime(ms, now)}
    </time>
  );
}

export function StateBadge({ state }: { state: MachineStateView }) {
  const info = STATE_INFO[state];
  return (
    <span class={`badge state state-${state}`} data-testid="state" data-state={state} title={info.meaning}>
      {info.label}
    </span>
  );
}

export const SeverityBadge = ({ severity }: { severity: string }) => <span class={`badge ${severityClass(severity)}`}>{severity.toLowerCase()}</span>;
export const StatusBadge = ({ status }: { status: string }) => <span class={`badge ${statusClass(status)}`}>{status.toLowerCase()}</span>;

/** An API error as the API put it. */
export function Problem({ error, what }: { error: unknown; what?: string }) {
  // A refused key is the key dialog's to say.
  if (!error || (error instanceof ApiProblem && error.status === 401)) return null;
  return (
    <div class="problem" role="alert">
      {what ? <strong>{what}: </strong> : null}
      {problemText(error)}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** Toggle buttons: a filter's values, each with its count when known. */
export function Chips<T extends string>(props: {
  label: string;
  showLabel?: boolean;
  values: readonly T[];
  selected: readonly T[];
  onChange: (selected: T[]) => void;
  counts?: Partial<Record<T, number>>;
  classOf?: (value: T) => string;
  labelOf?: (value: T) => string;
}) {
  const { values, selected, onChange, counts, classOf, labelOf } = props;
  const toggle = (value: T) => onChange(selected.includes(value) ? selected.filter((v) => v !== value) : [...selected, value]);
  return (
    <div class="chips" role="group" aria-label={props.label}>
      {props.showLabel ? (
        <span class="filter-label" aria-hidden="true">
          {props.label}
        </span>
      ) : null}
      {values.map((value) => (
        <button type="button" class={`chip ${classOf?.(value) ?? ''}`} aria-pressed={selected.includes(value)} onClick={() => toggle(value)} key={value}>
          {labelOf?.(value) ?? value}
          {counts ? <span class="count">{counts[value] ?? 0}</span> : null}
        </button>
      ))}
    </div>
  );
}

/** A score against its threshold, red when above it. */
export function Score({ score, threshold }: { score: number; threshold: number }) {
  return (
    <span class={score > threshold ? 'over' : ''} title={`score ${score} against threshold ${threshold}`}>
      {formatNumber(score)}
      <span class="muted"> / {formatNumber(threshold)}</span>
    </span>
  );
}
