// Topic colours: one categorical palette for the map, the chart and the topic pills, so a topic
// looks the same everywhere. Outliers (-1) are grey.

const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#393b79',
  '#ad494a',
  '#637939',
  '#7b4173',
  '#3182bd',
  '#e6550d',
  '#31a354',
  '#756bb1',
  '#636363',
  '#843c39',
  '#8c6d31',
];
export const OUTLIER_COLOUR = '#a9adb3';

/** The colour of a topic id (a CSS hex string). */
export function topicColour(topic) {
  const t = Number(topic);
  if (!Number.isFinite(t) || t < 0) return OUTLIER_COLOUR;
  return COLOURS[t % COLOURS.length];
}

/** The colour as one 32-bit little-endian RGBA integer, for writing canvas pixels directly. */
export function topicRGBA(topic, alpha = 255) {
  const hex = topicColour(topic);
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  return ((alpha << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** How a topic is named in the UI: "3 · red circle", outliers as such. */
export function topicName(topic, label) {
  const t = Number(topic);
  if (t === -1) return label && !/^outlier/i.test(label) ? `-1 · ${label}` : 'Outliers (-1)';
  if (topic === null || topic === undefined || topic === '') return 'no topic yet';
  return label ? `${t} · ${label}` : `Topic ${t}`;
}
