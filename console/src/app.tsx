import { useCallback, useEffect, useState } from 'preact/hooks';
import { Empty } from './components/common';
import { KeyDialog, NameDialog } from './components/dialogs';
import { useStore } from './hooks';
import { connectLive, liveState } from './live';
import { parseRoute, type Route } from './route';
import { askName, authEpoch, operator } from './session';
import { Alerts } from './views/alerts';
import { Fleet } from './views/fleet';
import { Machine } from './views/machine';

/** The console's frame: the header (views, live indicator, who you are), the view of the hash route, and the two dialogs. */
export function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  /** Go to `hash`; `replace` for a filter change (no new history entry for each chip). */
  const navigate = useCallback((hash: string, replace = false) => {
    if (replace) {
      history.replaceState(null, '', hash);
      setRoute(parseRoute(hash));
    } else location.hash = hash;
  }, []);

  const epoch = useStore(authEpoch);
  useEffect(() => {
    const live = connectLive();
    return () => live.close();
  }, [epoch]);

  useEffect(() => {
    document.title = `${route.view === 'machine' ? route.machineId : route.view === 'alerts' ? 'Alerts' : 'Fleet'} · pdm-stream`;
  }, [route]);

  return (
    <>
      <Header route={route} />
      <main id="main">
        {route.view === 'fleet' ? <Fleet states={route.states} q={route.q} navigate={navigate} /> : null}
        {route.view === 'machine' ? <Machine key={route.machineId} machineId={route.machineId} range={route.range} /> : null}
        {route.view === 'alerts' ? <Alerts filters={route.filters} navigate={navigate} /> : null}
        {route.view === 'not-found' ? (
          <Empty>
            Nothing at {route.hash}. Go to the <a href="#/">fleet</a> or the <a href="#/alerts">alerts</a>.
          </Empty>
        ) : null}
      </main>
      <KeyDialog />
      <NameDialog />
    </>
  );
}

function Header({ route }: { route: Route }) {
  const live = useStore(liveState);
  const name = useStore(operator);
  const current = (view: Route['view']) => (route.view === view || (view === 'fleet' && route.view === 'machine') ? 'page' : undefined);
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <span class="brand">pdm-stream</span>
      <nav aria-label="Views">
        <a href="#/" aria-current={current('fleet')}>
          Fleet
        </a>
        <a href="#/alerts" aria-current={current('alerts')}>
          Alerts
        </a>
      </nav>
      <span class="spacer" />
      <span
        class={`live live-${live}`}
        data-testid="live"
        data-state={live}
        role="status"
        title={live === 'connected' ? 'Live: the views update as data arrives' : 'The live stream is reconnecting; the views may be behind'}
      >
        <i aria-hidden="true" />
        {live === 'connected' ? 'live' : 'reconnecting…'}
      </span>
      <button type="button" class="link" onClick={() => void askName()} title="The name recorded with your acknowledgements and silences">
        {name ? `you: ${name}` : 'set your name'}
      </button>
      <a href="/docs" target="_blank" rel="noopener">
        API docs
      </a>
      <a href="/openapi.json" target="_blank" rel="noopener">
        OpenAPI
      </a>
    </header>
  );
}
