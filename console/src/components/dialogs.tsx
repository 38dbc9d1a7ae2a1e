import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useStore } from '../hooks';
import { enterKey, keyWanted, nameWanted, operator } from '../session';

/** A modal <dialog>, shown while mounted: focus moves into it, Escape cancels. */
function Modal(props: { testId: string; title: string; onCancel?: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="modal"
      data-testid={props.testId}
      aria-labelledby={`${props.testId}-title`}
      onCancel={(e) => {
        if (props.onCancel) props.onCancel();
        else e.preventDefault();
      }}
    >
      <h2 id={`${props.testId}-title`}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** Asked when the API answers 401: the key goes in sessionStorage (this tab only) and on every request. */
export function KeyDialog() {
  const wanted = useStore(keyWanted);
  const [key, setKey] = useState('');
  if (!wanted) return null;
  return (
    <Modal testId="api-key" title="API key">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) enterKey(key.trim());
          setKey('');
        }}
      >
        <p>This API asks for a key: the one set as PDM_API_KEY where it runs. The console keeps it for this tab only and sends it with every request.</p>
        <label>
          Key
          <input type="password" name="key" autoComplete="current-password" required autoFocus value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <div class="buttons">
          <button type="submit" class="primary">
            Use this key
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Asked before the first write: the name sent as `by`, kept in this browser (localStorage). */
export function NameDialog() {
  const resolve = useStore(nameWanted);
  const [name, setName] = useState('');
  useEffect(() => setName(operator.get() ?? ''), [resolve]);
  if (!resolve) return null;
  return (
    <Modal testId="your-name" title="Your name" onCancel={() => resolve(undefined)}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) resolve(name.trim());
        }}
      >
        <p>Acknowledgements and silences record who asked. Your name (or e-mail address) is kept in this browser.</p>
        <label>
          Your name
          <input type="text" name="name" autoComplete="name" required autoFocus maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <div class="buttons">
          <button type="button" onClick={() => resolve(undefined)}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
