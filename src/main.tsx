// Global CSS first (tokens, base, the UI kit's controls, the charts' shared bits), so each feature's own CSS, imported
// by its components, comes after it in the cascade.
import './styles/tokens.css';
import './styles/base.css';
import './ui/kit/kit.css';
import './ui/charts/charts.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { useStudio } from './state/store';
import { startRecipeUrlSync } from './state/urlSync';
import { App } from './ui/App';

// Set the theme before the first paint so a dark-mode user never sees a white flash.
document.documentElement.dataset.theme = useStudio.getState().theme;

// The recipe in the link (#recipe=…) applies to the first model opened, so read it before the demo opens.
startRecipeUrlSync();

// Open the bundled demo model once at start (outside React, so StrictMode cannot run it twice).
void useStudio.getState().loadDemo();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
