import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { EngineClient } from './state/engine-client';
import { applyPageLink, syncUrl } from './state/share-link';
import { App } from './ui/App';
import { EngineContext } from './ui/context';
import { ErrorBoundary } from './ui/ErrorBoundary';
// The page's styles, in cascade order: base, controls, images and charts, window sizes, latent models.
import './ui/base.css';
import './ui/controls.css';
import './ui/images.css';
import './ui/responsive.css';
import './ui/latent.css';

const client = new EngineClient();
// Every setting lives in the URL: the link's settings apply before the engine starts (so a link
// with its own model never loads the pretrained one), and the address bar follows every change.
applyPageLink(client, location.search);
syncUrl(client);

// Anything thrown outside React still reaches the user, in the alert region.
window.addEventListener('error', (ev) => client.reportError(ev.message || 'An unexpected error occurred.', 'page'));
window.addEventListener('unhandledrejection', (ev) => {
  const reason: unknown = ev.reason;
  client.reportError(reason instanceof Error ? reason.message : String(reason), 'page');
});

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html has no #root element');

createRoot(rootEl).render(
  <StrictMode>
    <EngineContext.Provider value={client}>
      <ErrorBoundary name="The app">
        <App />
      </ErrorBoundary>
    </EngineContext.Provider>
  </StrictMode>,
);

client.start();
