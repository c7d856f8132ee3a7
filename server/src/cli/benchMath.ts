// The benchmark tables' shared arithmetic and number format.

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Milliseconds in a table cell: two decimals below 10, whole numbers above. */
export const fmt = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(0));
