// Just enough of the Grafana dashboard JSON model to build the two dashboards, plus a layout that
// places panels left to right on Grafana's 24-column grid.

export const DATASOURCE_VARIABLE = 'datasource';
/** Every panel queries the Prometheus data source picked in the dashboard's variable. */
export const DATASOURCE = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` } as const;
const GRID_COLUMNS = 24;
/** Grafana 10.4 / 11 dashboard schema; older Grafanas migrate forward, newer ones read it as is. */
export const SCHEMA_VERSION = 39;

export interface Target {
  refId: string;
  datasource: typeof DATASOURCE;
  expr: string;
  legendFormat: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Panel {
  id: number;
  type: 'gauge' | 'stat' | 'timeseries' | 'piechart';
  title: string;
  description: string;
  datasource: typeof DATASOURCE;
  gridPos: GridPos;
  targets: Target[];
  fieldConfig: { defaults: { unit: string; min?: number; max?: number }; overrides: [] };
  options: Record<string, unknown>;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'browser';
  schemaVersion: number;
  version: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Record<string, unknown>[] };
  annotations: { list: [] };
  panels: Panel[];
}

export interface PanelSpec {
  type: Panel['type'];
  title: string;
  description: string;
  unit: string;
  width: number;
  height: number;
  queries: { expr: string; legend: string }[];
  min?: number;
  max?: number;
}

function panelOptions(type: Panel['type']): Record<string, unknown> {
  const reduce = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } };
  switch (type) {
    case 'gauge':
      return { ...reduce, showThresholdLabels: false, showThresholdMarkers: true };
    case 'stat':
      return { ...reduce, colorMode: 'value', graphMode: 'area', textMode: 'auto' };
    case 'piechart':
      return { ...reduce, pieType: 'pie', legend: { displayMode: 'table', placement: 'right', values: ['value', 'percent'] } };
    case 'timeseries':
      return { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi', sort: 'desc' } };
  }
}

/** Lays panels out in order, wrapping to a new row when the next one no longer fits. */
export function layoutPanels(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return specs.map((spec, index) => {
    if (x + spec.width > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w: spec.width, h: spec.height };
    x += spec.width;
    rowHeight = Math.max(rowHeight, spec.height);
    return {
      id: index + 1,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      gridPos,
      targets: spec.queries.map((query, queryIndex) => ({
        refId: String.fromCharCode(65 + queryIndex),
        datasource: DATASOURCE,
        expr: query.expr,
        legendFormat: query.legend,
      })),
      fieldConfig: {
        defaults: {
          unit: spec.unit,
          ...(spec.min === undefined ? {} : { min: spec.min }),
          ...(spec.max === undefined ? {} : { max: spec.max }),
        },
        overrides: [],
      },
      options: panelOptions(spec.type),
    };
  });
}

export function dashboard(fields: { uid: string; title: string; description: string; tags: string[]; panels: PanelSpec[] }): Dashboard {
  return {
    uid: fields.uid,
    title: fields.title,
    description: fields.description,
    tags: fields.tags,
    timezone: 'browser',
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        {
          name: DATASOURCE_VARIABLE,
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          options: [],
        },
      ],
    },
    annotations: { list: [] },
    panels: layoutPanels(fields.panels),
  };
}
