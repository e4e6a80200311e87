/**
 * The page's link: applies a link's settings when the page opens (through the engine client's
 * actions) and keeps the address bar's query in step with the settings afterwards, so copying it
 * shares the configuration.
 *
 * Pretrained models: a link written by a page on the pretrained model carries no model settings
 * but its kind (the pretrained model stands for them), and opening it loads that pretrained model.
 * A link that sets any model setting beyond the kind describes its own model: the page starts from
 * fresh weights with it (as `?pretrained=0` does), and says so. A page on fresh or imported weights
 * writes `pretrained=0` and every model setting that differs from the defaults.
 */
import type { ModelKind } from '../models/setup/model-setup';
import { FINE_TUNE_LEARNING_RATE, FINE_TUNE_STEPS, type EngineClient } from './engine-client';
import { applyValues, buildQuery, decodeShare, encodeShare, linkSetsModel, type DecodedLink, type Settings, type Value } from './share';
import { DEFAULT_SAMPLING, DEFAULT_SETUP, DEFAULT_TRAINING, type AppState } from './store';
import type { AddressBar } from './section-url';

export type { AddressBar } from './section-url';

/** After a settings change, the address bar is updated once they have been still for this long. */
export const URL_SYNC_DELAY_MS = 300;

export const FRESH_WEIGHTS_NOTE = 'This link sets up its own model, so the page starts from fresh weights instead of the pretrained model: train it before sampling.';

export function settingsOf(s: AppState): Settings {
  return { setup: s.setup, training: s.training, sampling: s.sampling };
}

/** What the page holds without a link: the defaults, or what a loaded pretrained model proposes (fine-tuning values, its guidance). */
export function baselineOf(s: AppState): Settings {
  const info = s.pretrained.source === 'pretrained' && s.pretrained.status === 'ready' ? s.pretrained.info : null;
  if (!info) return { setup: DEFAULT_SETUP, training: DEFAULT_TRAINING, sampling: DEFAULT_SAMPLING };
  const g = info.eval?.guidance;
  return {
    setup: DEFAULT_SETUP,
    training: { ...DEFAULT_TRAINING, stage: 'denoiser', steps: info.denoiserSteps + FINE_TUNE_STEPS, learningRate: FINE_TUNE_LEARNING_RATE },
    sampling: s.setup.classConditional && typeof g === 'number' && g >= 0 && g <= 10 ? { ...DEFAULT_SAMPLING, guidance: g } : DEFAULT_SAMPLING,
  };
}

/** The query ('' or '?...') that reproduces the page's settings; `search` gives the kept parameters (backend, stream). */
export function pageQuery(s: AppState, search: string): string {
  const onPretrained = s.pretrained.source === 'pretrained';
  // After a failed pretrained load the page runs on fresh weights, but a reload should try again.
  const scratch = !onPretrained && s.pretrained.status !== 'failed';
  return buildQuery(search, encodeShare(settingsOf(s), baselineOf(s), { setup: onPretrained ? 'kind' : 'all' }), scratch);
}

/** The training and sampling values of the link, applied to the forms. */
function applyForms(client: EngineClient, values: ReadonlyMap<string, Value>): void {
  const next = applyValues(settingsOf(client.store.getState()), values);
  client.setTraining(next.training);
  client.setSampling(next.sampling);
}

/**
 * Applies a decoded link to a page that has not started its engine yet (call before
 * `client.start()`), and shows its notes.
 */
export function applyLink(client: EngineClient, link: DecodedLink): void {
  const { store } = client;
  const { values } = link;
  const notes = [...link.notes];
  const s = store.getState();
  const onPretrained = s.pretrained.source === 'pretrained';
  if (linkSetsModel(values)) {
    if (onPretrained) {
      client.trainFromScratch();
      notes.push(FRESH_WEIGHTS_NOTE);
    }
    client.updateSetup((m) => applyValues({ ...settingsOf(store.getState()), setup: m }, values).setup);
  } else if (values.has('model')) {
    const kind = values.get('model') as ModelKind;
    if (!onPretrained) client.updateSetup((m) => applyValues({ ...settingsOf(store.getState()), setup: m }, values).setup);
    else if (kind !== s.pretrained.kind) client.loadPretrained(kind);
  }
  applyForms(client, values);
  if (store.getState().pretrained.status === 'loading') {
    // A pretrained model proposes its own training values (and guidance) when it arrives: the link's win.
    const stop = store.subscribe((now, prev) => {
      if (now.pretrained.status === prev.pretrained.status) return;
      stop();
      if (now.pretrained.status === 'ready') applyForms(client, values);
    });
  }
  if (notes.length > 0) store.setState({ linkNotes: notes });
}

/** Reads the page's own query and applies it (see applyLink). */
export function applyPageLink(client: EngineClient, search: string): void {
  applyLink(client, decodeShare(search));
}

export interface UrlSync {
  /** Writes the address bar now (a pending update included). */
  flush(): void;
  dispose(): void;
}


/**
 * Keeps the address bar's query in step with the settings (history.replaceState, debounced: no
 * history entry per keystroke). Waits while a pretrained model loads: its settings are on the way.
 */
export function syncUrl(client: EngineClient, bar: AddressBar = window, delayMs = URL_SYNC_DELAY_MS): UrlSync {
  const { store } = client;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const write = () => {
    timer = null;
    const s = store.getState();
    if (s.pretrained.status === 'loading') return;
    const { pathname, search, hash } = bar.location;
    const query = pageQuery(s, search);
    if (query !== search) bar.history.replaceState(bar.history.state, '', `${pathname}${query}${hash}`);
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(write, delayMs);
  };
  const stop = store.subscribe((s, prev) => {
    if (s.setup !== prev.setup || s.training !== prev.training || s.sampling !== prev.sampling || s.pretrained !== prev.pretrained) schedule();
  });
  schedule(); // the link as read: clamped values and dropped parameters show in the address bar too
  return {
    flush() {
      if (timer) clearTimeout(timer);
      write();
    },
    dispose() {
      stop();
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** The full address that reproduces the page's settings now (for "Copy link"). */
export function shareUrl(s: AppState, location: Pick<Location, 'origin' | 'pathname' | 'search' | 'hash'>): string {
  return `${location.origin}${location.pathname}${pageQuery(s, location.search)}${location.hash}`;
}
