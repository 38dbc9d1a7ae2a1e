import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ChangeEvent } from '../../api/schemas';
import { isAbort } from './api';
import { latestChange } from './live';
import { authEpoch } from './session';
import { movedKinds, type ChangeKind } from './sse';
import type { Store } from './store';

/** The store's value, re-rendering when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get());
  useEffect(() => {
    setValue(store.get());
    return store.subscribe((v) => setValue(() => v));
  }, [store]);
  return value;
}

/** The time now, moving every `everyMs`: for "5 min ago" that stays true. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** `value`, once it has stopped changing for `ms`: a search box's text. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * Calls `refetch` when the live stream says one of `kinds` moved since the view last looked,
 * at most once per `debounceMs` (a burst of windows is one refetch).
 */
export function useChanges(kinds: readonly ChangeKind[], refetch: () => void, debounceMs = 400): void {
  const latest = useRef(refetch);
  latest.current = refetch;
  const key = kinds.join(',');
  useEffect(() => {
    let seen: ChangeEvent | undefined = latestChange.get();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = latestChange.subscribe((change) => {
      if (!change) return;
      // The view loaded itself when it mounted: the first markers it sees are its baseline, not news
      // (a reconnection keeps `seen`, so what moved meanwhile is still caught).
      if (seen === undefined) {
        seen = change;
        return;
      }
      const moved = movedKinds(seen, change);
      seen = change;
      if (!key.split(',').some((kind) => moved.has(kind as ChangeKind))) return;
      clearTimeout(timer);
      timer = setTimeout(() => latest.current(), debounceMs);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [key, debounceMs]);
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Fetch again, keeping what is shown until the answer comes. */
  reload: () => void;
}

/**
 * The answer of `load`, fetched again when `deps` change, when a new API key is entered, and on
 * `reload()`. An answer to an older request is dropped (its request is aborted); the previous
 * data stays on screen while the next is on its way, so a live refetch does not flash.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const epoch = useStore(authEpoch);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !controller.signal.aborted && !isAbort(error) && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => controller.abort();
    // `deps` is the caller's list, as with useEffect.
  }, [...deps, tick, epoch]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
