/** A small line chart of recent samples (inline SVG: no chart library, nothing the CSP would block). */
import type { JSX } from "preact";

export function Sparkline(props: { values: readonly number[]; label: string; format?: (value: number) => string; width?: number; height?: number }): JSX.Element {
  const { values, width = 240, height = 40, format = String } = props;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  // 2 px of margin top and bottom so a flat line at 0 or at the maximum stays visible.
  const y = (v: number) => (height - 2 - (v / max) * (height - 4)).toFixed(1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`).join(" ");
  return (
    <svg class="sparkline" role="img" data-points={values.length} aria-label={`${props.label}: ${values.map(format).join(", ")}`} width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
