// Entry point: mounts the console into #app (index.html has no inline script or style).

import { render } from 'preact';
import { App } from './App';
import './styles.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
