import { type Ref, onBeforeUnmount, onMounted, shallowRef } from 'vue';
import { init } from '../chart/echarts.setup.js';
import { type ChartSettings, FootprintChart, type HoverInfo } from '../chart/footprint.chart.js';
import type { FootprintStore } from '../store/footprint.store.js';

/**
 * The ECharts instance's lifecycle: created on mount (canvas renderer), resized with its element,
 * disposed on unmount. The instance lives in a shallowRef: Vue must not make it reactive.
 */
export function useFootprintChart(el: Ref<HTMLElement | null>, store: FootprintStore, settings: () => ChartSettings) {
  const chart = shallowRef<FootprintChart | null>(null);
  const hover = shallowRef<HoverInfo | null>(null);
  let observer: ResizeObserver | null = null;
  let removeWindowListeners: (() => void) | null = null;

  onMounted(() => {
    const node = el.value!;
    const instance = init(node, undefined, { renderer: 'canvas' });
    const fc = new FootprintChart(instance, store, settings());
    fc.visibleCount = Math.max(20, Math.min(150, Math.floor(node.clientWidth / 22)));
    chart.value = fc;
    let size = `${node.clientWidth}x${node.clientHeight}`;
    observer = new ResizeObserver(() => {
      // the observer also reports the initial size: redraw only on a real change
      const now = `${node.clientWidth}x${node.clientHeight}`;
      if (now === size) return;
      size = now;
      instance.resize();
      fc.render('resize');
    });
    observer.observe(node);
    // prices: shift + wheel zooms, shift + drag pans, double click fits again (plain wheel and drag
    // belong to the time axis' dataZoom); captured before zrender sees them
    node.addEventListener(
      'wheel',
      (e) => {
        if (!e.shiftKey) return;
        e.preventDefault();
        e.stopPropagation();
        fc.zoomPrices(e.deltaY < 0 || e.deltaX < 0 ? 1.15 : 1 / 1.15);
      },
      { capture: true, passive: false },
    );
    let dragY: number | null = null;
    node.addEventListener(
      'mousedown',
      (e) => {
        if (!e.shiftKey) return;
        dragY = e.clientY;
        e.stopPropagation();
      },
      { capture: true },
    );
    const onMove = (e: MouseEvent) => {
      if (dragY === null) return;
      fc.panPrices(e.clientY - dragY);
      dragY = e.clientY;
    };
    const onUp = () => (dragY = null);
    window.addEventListener('mousemove', onMove);
    window.addEventListener('mouseup', onUp);
    removeWindowListeners = () => {
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mouseup', onUp);
    };
    node.addEventListener('dblclick', () => fc.resetPrices());
    const zr = instance.getZr();
    zr.on('mousemove', (e: { offsetX: number; offsetY: number }) => {
      hover.value = fc.hover(e.offsetX, e.offsetY);
    });
    zr.on('globalout', () => {
      hover.value = null;
    });
  });

  onBeforeUnmount(() => {
    observer?.disconnect();
    removeWindowListeners?.();
    chart.value?.chart.dispose();
    chart.value = null;
  });

  return { chart, hover };
}
