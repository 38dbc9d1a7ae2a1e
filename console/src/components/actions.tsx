import { useState } from 'preact/hooks';
import type { ActionView } from '../../../api/schemas';
import { getJson } from '../api';
import { actionSummary } from '../alerts';
import { useChanges, useLoad } from '../hooks';
import { Ago, Empty, Problem } from './common';

type ActionsPage = { actions: ActionView[]; nextCursor: string | null };

/** The recorded operator actions, newest first: who did what, when and why (the audit). */
export function ActionList({ machine, pageSize = 30 }: { machine?: string; pageSize?: number }) {
  // A live refetch asks for as many as are shown, so "more" pages stay open (the API's limit is 1000).
  const [limit, setLimit] = useState(pageSize);
  const actions = useLoad((signal) => getJson<ActionsPage>('/actions', { machine, limit }, signal), [machine, limit]);
  useChanges(['actions'], actions.reload);
  const list = actions.data?.actions ?? [];
  return (
    <div class="actions">
      <Problem error={actions.error} what="GET /actions" />
      <ul class="plain">
        {list.map((a) => (
          <li class="action" key={a.requestId} data-testid="action">
            <div>
              <strong>{a.by}</strong> {actionSummary(a)}
            </div>
            <div class="muted small">
              <Ago iso={a.requestedAt} />
              {a.reason ? ` — ${a.reason}` : ''}
            </div>
          </li>
        ))}
      </ul>
      {actions.data && list.length === 0 ? <Empty>No action recorded yet: acknowledgements and silences show here with who asked and why.</Empty> : null}
      {actions.data?.nextCursor && limit < 1000 ? (
        <button type="button" class="more" onClick={() => setLimit((n) => Math.min(1000, n + pageSize * 3))}>
          Show more
        </button>
      ) : null}
    </div>
  );
}
