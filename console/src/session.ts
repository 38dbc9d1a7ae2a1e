import { Store } from './store';

/**
 * Who is at the console: the API key (for this tab only: sessionStorage, gone when it closes)
 * and the operator's name, sent as `by` on every write (localStorage: asked once per browser).
 * The dialogs in dialogs.tsx fill them in when the API or a write needs them.
 */

const KEY_ITEM = 'pdm.apiKey';
const NAME_ITEM = 'pdm.operator';

function read(storage: () => Storage, item: string): string | undefined {
  try {
    return storage().getItem(item) ?? undefined;
  } catch {
    // Storage refused (a private window's quota, a policy): the value lasts as long as the page.
    return undefined;
  }
}

function write(storage: () => Storage, item: string, value: string | undefined): void {
  try {
    if (value === undefined) storage().removeItem(item);
    else storage().setItem(item, value);
  } catch {
    // As above: kept in memory only.
  }
}

export const apiKey = new Store<string | undefined>(read(() => sessionStorage, KEY_ITEM));
apiKey.subscribe((key) => write(() => sessionStorage, KEY_ITEM, key));

/** True while the API has refused the key (or the lack of one): the key dialog is open. */
export const keyWanted = new Store(false);

/** Bumped when a new key is entered: views fetch again and the live stream reconnects. */
export const authEpoch = new Store(0);

export function enterKey(key: string): void {
  apiKey.set(key);
  keyWanted.set(false);
  authEpoch.update((n) => n + 1);
}

export const operator = new Store<string | undefined>(read(() => localStorage, NAME_ITEM));
operator.subscribe((name) => write(() => localStorage, NAME_ITEM, name));

/** Set while a write waits for the name dialog: its resolve (the name) or undefined when cancelled. */
export const nameWanted = new Store<((name: string | undefined) => void) | undefined>(undefined);

/** The operator's name: the one given before, or asked for now (undefined when they cancel). */
export function operatorName(): Promise<string | undefined> {
  const known = operator.get();
  if (known) return Promise.resolve(known);
  return askName();
}

/** Asks for the name (again), whether or not one is known. */
export function askName(): Promise<string | undefined> {
  return new Promise((resolve) => {
    nameWanted.get()?.(undefined);
    nameWanted.set((name) => {
      nameWanted.set(undefined);
      if (name) operator.set(name);
      resolve(name);
    });
  });
}
