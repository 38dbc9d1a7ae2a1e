import { stackDown } from '../../stack/stack';

/** Stops what global-setup started, unless PDM_TEST_KEEP_STACK=1 (faster repeated runs). */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__PDM_SETUP__;
  if (!state || process.env.PDM_TEST_KEEP_STACK === '1') return;
  if (state.mode === 'docker') await state.compose?.down();
  if (state.mode === 'local' && state.startedServers.length > 0) await stackDown({ only: state.startedServers });
}
