import { useState } from 'preact/hooks';
import type { AlertView, DriverView } from '../../../api/schemas';
import { formatNumber, formatShare } from '../format';
import { useStore } from '../hooks';
import { routeHash } from '../route';
import { acknowledge, Cancelled, pendingAcks } from '../writes';
import { Ago, Problem, SeverityBadge, StatusBadge, Time } from './common';

/** A share 0..1 as a small bar and its percentage. */
const ShareBar = ({ share }: { share: number }) => (
  <span class="share">
    <span class="bar" aria-hidden="true">
      <i style={{ width: `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%` }} />
    </span>
    {formatShare(share)}
  </span>
);

/** What drove an alert: each channel's share of the deviation, and what it read against what the machine normally reads. */
export function Drivers({ drivers }: { drivers: readonly DriverView[] }) {
  if (drivers.length === 0) return null;
  return (
    <table class="drivers">
      <caption class="visually-hidden">What drove it</caption>
      <thead>
        <tr>
          <th scope="col">channel</th>
          <th scope="col">share</th>
          <th scope="col" class="num">
            value
          </th>
          <th scope="col" class="num">
            expected
          </th>
        </tr>
      </thead>
      <tbody>
        {drivers.map((d) => (
          <tr key={d.channel}>
            <td class="id">{d.channel}</td>
            <td>
              <ShareBar share={d.contribution} />
            </td>
            <td class="num">{formatNumber(d.value)}</td>
            <td class="num">{formatNumber(d.expected)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Acknowledge a firing alert, or who did. After the 202 the acknowledgement shows only once
 * recorded (about a second): "acknowledging…" until a refetch brings it.
 */
export function AckControl({ alert, over }: { alert: AlertView; over?: boolean }) {
  const pending = useStore(pendingAcks);
  const [error, setError] = useState<unknown>();
  const ack = alert.acknowledgement;
  if (ack) {
    return (
      <span class="acknowledged" data-testid="acknowledged">
        acknowledged by <strong>{ack.by}</strong> <Ago iso={ack.at} />
        {ack.reason ? <span class="muted"> — {ack.reason}</span> : null}
      </span>
    );
  }
  if (alert.status !== 'FIRING' || over) return null;
  if (pending.has(alert.alertId)) {
    return (
      <span class="muted" data-testid="acknowledging" aria-live="polite">
        acknowledging…
      </span>
    );
  }
  return (
    <span class="ack">
      <button
        type="button"
        data-testid="ack"
        title="Someone has taken it on: no more reminder mails for this firing"
        onClick={() => {
          setError(undefined);
          acknowledge(alert).catch((err: unknown) => setError(err instanceof Cancelled ? undefined : err));
        }}
      >
        Acknowledge
      </button>
      <Problem error={error} />
    </span>
  );
}

export function Notifications({ alert }: { alert: AlertView }) {
  const mails = alert.notifications;
  if (mails.length === 0) return <span class="muted">no mail</span>;
  const failed = mails.filter((m) => m.outcome === 'failed').length;
  return (
    <details class="mails">
      <summary>
        {mails.length} mail{mails.length === 1 ? '' : 's'}
        {failed ? <span class="over"> ({failed} failed)</span> : null}
      </summary>
      <ul>
        {mails.map((m) => (
          <li key={`${m.recipient}|${m.kind}|${m.at}`}>
            <span class={`outcome outcome-${m.outcome}`}>{m.outcome}</span> {m.kind.toLowerCase()} to {m.recipient} <Time iso={m.at} />
            {m.subject ? <div class="muted">{m.subject}</div> : null}
            {m.error ? <div class="over">{m.error}</div> : null}
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The drivers in a line: "tempA.mean 62% (58.2 vs 45.1 expected)", strongest first. */
export function DriverLine({ drivers }: { drivers: readonly DriverView[] }) {
  if (drivers.length === 0) return null;
  return (
    <span class="driver-line" aria-label="What drove it">
      {drivers.map((d) => (
        <span
          class="driver"
          key={d.channel}
          title={`${d.channel}: ${formatShare(d.contribution)} of the deviation; read ${formatNumber(d.value)}, normally ${formatNumber(d.expected)}`}
        >
          <span class="id">{d.channel}</span> <ShareBar share={d.contribution} /> {formatNumber(d.value)}
          <span class="muted"> vs {formatNumber(d.expected)}</span>
        </span>
      ))}
    </span>
  );
}

/** One alert transition: when, where, what, why (drivers), its acknowledgement and its mails. */
export function AlertRow({ alert, showMachine = true, over }: { alert: AlertView; showMachine?: boolean; over?: boolean }) {
  return (
    <li
      class={`alert-row ${alert.status === 'FIRING' ? (over ? 'firing past' : 'firing') : 'resolved'}`}
      data-testid="alert-row"
      data-alert-id={alert.alertId}
      data-status={alert.status}
    >
      <div class="alert-main">
        <div class="alert-head">
          <Time iso={alert.createdAt} />
          <StatusBadge status={alert.status} />
          <SeverityBadge severity={alert.severity} />
          <span class="kind">{alert.kind}</span>
          {alert.feature ? <span class="id">{alert.feature}</span> : null}
          {showMachine ? (
            <a class="id" href={routeHash({ view: 'machine', machineId: alert.machineId, range: '7d' })}>
              {alert.machineId}
            </a>
          ) : null}
          <span class="message">{alert.message}</span>
        </div>
        <div class="alert-sub">
          <span class="num" title="score against threshold">
            {formatNumber(alert.score)} / {formatNumber(alert.threshold)}
          </span>
          <DriverLine drivers={alert.drivers} />
          {alert.predictedBreachAt ? (
            <span>
              crosses its limit at <Time iso={alert.predictedBreachAt} />
            </span>
          ) : null}
          <Notifications alert={alert} />
          <span class="muted">
            {alert.modelName} {alert.modelVersion}
          </span>
        </div>
      </div>
      <div class="alert-act">
        <AckControl alert={alert} over={over} />
      </div>
    </li>
  );
}
