/**
 * A value that components and the I/O modules share and watch: the API key, the operator's name,
 * the live stream's state, the acknowledgements in flight. Twenty lines instead of a state
 * library: the console has a handful of such values, and hooks.ts's `useStore` reads them.
 */
export class Store<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(value: T): void {
    if (Object.is(value, this.value)) return;
    this.value = value;
    for (const listener of [...this.listeners]) listener(value);
  }

  update(change: (value: T) => T): void {
    this.set(change(this.value));
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
