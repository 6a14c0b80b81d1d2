// Colours and marks for series: the Okabe–Ito palette (distinguishable with every common colour-vision deficiency), plus shapes so print in grey still tells series apart.

/** Okabe & Ito (2008), ordered so the first few are the most distinct; yellow last (weak on white). */
export const PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];

/** Marker shapes, cycled with the colours so series differ in form as well as hue. */
export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'] as const;
export type Shape = (typeof SHAPES)[number];

/** Dash patterns: the first cycle of colours is solid, the next dashed, and so on. */
const DASHES: readonly string[] = ['', '6 3', '2 3', '8 3 2 3'];

export interface SeriesStyle {
  readonly color: string;
  readonly shape: Shape;
  readonly dash: string;
}

export function seriesStyle(i: number): SeriesStyle {
  return {
    color: PALETTE[i % PALETTE.length] as string,
    shape: SHAPES[i % SHAPES.length] as Shape,
    dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] as string,
  };
}

/** Shading for fault spans and the grid: neutral, light, and visible in print. */
export const FAULT_FILL = '#D55E00';
export const GRID = '#e3e3e3';
export const AXIS = '#444444';
export const MUTED = '#666666';
