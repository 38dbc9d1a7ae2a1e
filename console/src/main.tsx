import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app';

/** The console's entry: scripts/build-console.ts bundles this (and the CSS it imports) into console/dist. */
render(<App />, document.getElementById('app')!);
