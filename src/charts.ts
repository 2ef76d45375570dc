/** Charts: a Vega-Lite specification rendered to SVG in Node (no browser, no canvas). */

export async function renderChart(spec: Record<string, unknown>): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  return view.toSVG();
}
