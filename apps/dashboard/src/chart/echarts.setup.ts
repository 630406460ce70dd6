import { BarChart, CustomChart, LineChart } from 'echarts/charts';
import { AxisPointerComponent, DataZoomComponent, GridComponent, TooltipComponent } from 'echarts/components';
import { init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only the parts the dashboard uses are registered (tree-shaken bundle), on the canvas renderer.
use([
  CustomChart,
  LineChart,
  BarChart,
  GridComponent,
  DataZoomComponent,
  TooltipComponent,
  AxisPointerComponent,
  CanvasRenderer,
]);

export { init };
export type { EChartsType } from 'echarts/core';
