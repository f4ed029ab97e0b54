// The least a webpack 5 app states: its entry and where the bundle goes.
const path = require('node:path');

module.exports = {
  mode: 'production',
  entry: './main.js',
  output: { path: path.resolve(__dirname, 'dist'), filename: 'main.js', clean: true },
};
