// Builds ../assets/plotly-partial.min.js from entry.js with the settings of plotly.js's own
// esbuild-config.js (iife, es2016, global -> window), minified, with plotly's MIT licence header.
// Run: npm ci && npm run build   (see docs/dashboard.md)
'use strict';

const path = require('path');
const esbuild = require('esbuild');
const { version } = require('plotly.js/package.json');

const header = `/**
* plotly.js v${version} (partial bundle: scatter, bar, sankey; see dashboards/plotly-bundle)
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
*/`;

esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: path.join(__dirname, '..', 'assets', 'plotly-partial.min.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2016',
    define: { global: 'window', 'define.amd': 'false' },
    alias: { stream: 'stream-browserify' },
    loader: { '.css': 'empty' }, // maplibre-gl's style sheet, required only by map subplots (not bundled)
    banner: { js: header },
    legalComments: 'eof',
    logLevel: 'info',
});
