// plotly.js with only the trace types the dashboard draws: scatter (in core), bar and sankey.
// Defining window.Plotly before any dcc.Graph renders stops Dash from loading the full plotly.min.js.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/sankey')]);

window.Plotly = Plotly;
