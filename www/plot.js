// Hand-drawn canvas charts: two small plots do not justify a charting
// dependency, and these work offline with nothing to load.

/** Draws the last frames that fit as a strip: tall blue = speech, low grey = background. */
export function drawFrameStrip(canvas, frames) {
  const g = canvas.getContext('2d');
  const width = 3;
  const shown = frames.slice(-Math.floor(canvas.width / width));
  g.clearRect(0, 0, canvas.width, canvas.height);
  shown.forEach((speech, i) => {
    g.fillStyle = speech ? '#3a6ee8' : '#cfd3df';
    const height = speech ? canvas.height - 8 : canvas.height / 4;
    g.fillRect(i * width, canvas.height - 4 - height, width - 1, height);
  });
}

/**
 * Plots series of values in 0..1 over the last `points` results, with a
 * dashed decision threshold. `series` is `[{values, color}]`.
 */
export function drawSeries(canvas, series, { points = 120, threshold = 0.5 } = {}) {
  const g = canvas.getContext('2d');
  const { width, height } = canvas;
  const pad = 6;
  const x = (i) => pad + ((width - 2 * pad) * i) / Math.max(1, points - 1);
  const y = (v) => height - pad - (height - 2 * pad) * Math.min(1, Math.max(0, v));
  g.clearRect(0, 0, width, height);
  g.strokeStyle = '#b0b6c6';
  g.setLineDash([4, 4]);
  g.beginPath();
  g.moveTo(pad, y(threshold));
  g.lineTo(width - pad, y(threshold));
  g.stroke();
  g.setLineDash([]);
  g.lineWidth = 2;
  for (const { values, color } of series) {
    const shown = values.slice(-points);
    g.strokeStyle = color;
    g.beginPath();
    shown.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke();
  }
}
