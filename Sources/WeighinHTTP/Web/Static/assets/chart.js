// The weight chart: an inline SVG drawn here, one circle per reading, the ema trend and the goal as lines, axes with
// dates and weights in the display unit. Colours come from the stylesheet's classes (no inline style).

import { svg } from './dom.js';
import { addDays, dateOfDay, dayNumber, longDate, monthLabel, number, shortDate, weight } from './format.js';

// Room around the plot: the unit above it, the dates below; on the left as much as the weights' labels need.
const margin = { top: 24, right: 14, bottom: 30 };
const labelCharWidth = 7; // px per character of the 12 px axis labels, near enough to leave room for them

/**
 * Draws the chart into `container`.
 * @param {object} data `{entries, trend, goal, unit, from, to, rangeWords}`: entries newest first, trend points
 *   ascending, goal or null, the first and last day shown (`YYYY-MM-DD`).
 */
export function drawChart(container, data) {
  const width = Math.max(280, Math.round(container.clientWidth || 600));
  const height = width < 520 ? 240 : 300;
  const plot = { left: 0, right: width - margin.right, top: margin.top, bottom: height - margin.bottom };
  const readings = data.entries.map((entry) => ({ x: dayNumber(entry.recorded_on) + timeOfDay(entry), entry }));
  const trend = data.trend.map((point) => ({ x: dayNumber(point.date) + 0.5, y: point.average }));
  const target = data.goal ? data.goal.target_weight : null;

  const label = chartLabel(data, readings, trend, target);
  const chart = svg('svg', {
    role: 'img', 'aria-label': label, viewBox: `0 0 ${width} ${height}`, width, height,
    preserveAspectRatio: 'xMidYMid meet',
  });
  if (readings.length === 0) {
    chart.append(svg('text', { class: 'empty', x: width / 2, y: height / 2, 'text-anchor': 'middle',
      text: `No readings ${data.rangeWords}.` }));
    container.replaceChildren(chart);
    return;
  }

  // The x axis runs over the range's days (or the readings' own, for "All"); the y axis over every value shown.
  const firstDay = dayNumber(data.from ?? data.entries[data.entries.length - 1].recorded_on);
  const lastDay = dayNumber(data.to) + 1;
  const values = readings.map((r) => r.entry.weight).concat(trend.map((p) => p.y));
  if (target !== null) values.push(target);
  const [low, high, step] = niceScale(Math.min(...values), Math.max(...values), plot.bottom - plot.top);
  const weightTicks = [];
  for (let index = 0; low + index * step <= high + step / 2; index += 1) {
    const value = low + index * step;
    weightTicks.push({ value, label: number(value) });
  }
  plot.left = Math.max(34, Math.max(...weightTicks.map((tick) => tick.label.length)) * labelCharWidth + 12);
  const x = (day) => plot.left + ((day - firstDay) / (lastDay - firstDay)) * (plot.right - plot.left);
  const y = (value) => plot.bottom - ((value - low) / (high - low)) * (plot.bottom - plot.top);

  const axes = svg('g', { class: 'axis' });
  for (const tick of weightTicks) {
    const at = y(tick.value);
    axes.append(svg('line', { class: 'grid', x1: plot.left, x2: plot.right, y1: at, y2: at }));
    axes.append(svg('text', { x: plot.left - 6, y: at + 4, 'text-anchor': 'end', text: tick.label }));
  }
  axes.append(svg('text', { x: plot.left - 6, y: 12, 'text-anchor': 'end', text: data.unit }));
  axes.append(svg('line', { class: 'baseline', x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }));
  for (const tick of dateTicks(firstDay, lastDay, plot.right - plot.left)) {
    const at = x(tick.day);
    axes.append(svg('line', { class: 'baseline', x1: at, x2: at, y1: plot.bottom, y2: plot.bottom + 4 }));
    axes.append(svg('text', { x: at, y: plot.bottom + 18, 'text-anchor': 'middle', text: tick.label }));
  }
  chart.append(axes);

  if (target !== null) {
    const at = y(target);
    chart.append(svg('line', { class: 'goal', x1: plot.left, x2: plot.right, y1: at, y2: at }));
    chart.append(svg('text', { class: 'goal-label', x: plot.right - 4, y: at - 6, 'text-anchor': 'end',
      text: `Goal ${weight(target, data.unit)}` }));
  }

  // Circles as large as the days' spacing lets them be without merging: 4 px down to 2 px.
  const radius = Math.min(4, Math.max(2, ((plot.right - plot.left) / (lastDay - firstDay)) * 0.45));
  const circles = svg('g', { class: 'readings' });
  for (const { x: day, entry } of readings) {
    const when = entry.measured_at ? `${longDate(entry.recorded_on)}, ${entry.measured_at.slice(11, 16)}`
      : longDate(entry.recorded_on);
    circles.append(svg('circle', { class: 'reading', cx: round(x(day)), cy: round(y(entry.weight)), r: round(radius) },
      svg('title', { text: `${when}: ${weight(entry.weight, entry.unit)}` })));
  }
  chart.append(circles);

  if (trend.length > 0) {
    const points = trend.map((p) => `${round(x(p.x))},${round(y(p.y))}`).join(' ');
    chart.append(svg('polyline', { class: 'trend', points }));
  }
  container.replaceChildren(chart);
}

/** The chart's accessible name: what a person would read off it. */
function chartLabel(data, readings, trend, target) {
  let label = `Weight chart, ${data.rangeWords}`;
  if (readings.length === 0) return `${label}: no readings.`;
  const weights = readings.map((r) => r.entry.weight);
  label += `: ${readings.length} reading${readings.length === 1 ? '' : 's'} from ${shortDate(data.entries.at(-1).recorded_on)} `
    + `to ${shortDate(data.entries[0].recorded_on)}, between ${weight(Math.min(...weights), data.unit)} and `
    + `${weight(Math.max(...weights), data.unit)}`;
  if (trend.length > 0) label += `; trend now ${weight(trend.at(-1).y, data.unit)}`;
  if (target !== null) label += `; goal ${weight(target, data.unit)}`;
  return `${label}.`;
}

/** The fraction of its day a reading was taken at (its own wall clock), or midday when it has no time. */
function timeOfDay(entry) {
  if (!entry.measured_at) return 0.5;
  const [hh, mm] = entry.measured_at.slice(11, 16).split(':').map(Number);
  return (hh * 60 + mm) / 1440;
}

const round = (value) => Math.round(value * 10) / 10;

/** A low and high bound and a tick step that are round numbers, around `min`..`max`, for `pixels` of height. */
function niceScale(min, max, pixels) {
  const spread = Math.max(max - min, 1);
  const wanted = Math.max(3, Math.min(7, Math.floor(pixels / 45)));
  const raw = spread / wanted;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw);
  const low = Math.floor((min - spread * 0.05) / step) * step;
  const high = Math.ceil((max + spread * 0.05) / step) * step;
  return [Number(low.toFixed(2)), Number(high.toFixed(2)), step];
}

/** Date ticks from `first` to `last` (day numbers): days, weeks, months or years, as many as fit in `pixels`. */
function dateTicks(first, last, pixels) {
  const days = last - first;
  const fit = Math.max(2, Math.floor(pixels / 72));
  const ticks = [];
  for (const step of [1, 2, 7, 14]) {
    if (days / step <= fit) {
      // Weeks start on the range's first day, so the first tick sits on the axis's start.
      for (let day = first; day < last; day += step) ticks.push({ day: day + 0.5, label: shortDate(dateOfDay(day)) });
      return ticks.filter((tick) => tick.day <= last);
    }
  }
  const spanMonths = days / 30.44;
  const monthStep = [1, 2, 3, 6].find((m) => spanMonths / m <= fit);
  if (monthStep) {
    let date = firstOfMonthOnOrAfter(dateOfDay(first));
    while (dayNumber(date) < last) {
      const month = Number(date.slice(5, 7));
      if ((month - 1) % monthStep === 0) {
        ticks.push({ day: dayNumber(date), label: month === 1 || ticks.length === 0 ? monthLabel(date, true)
          : monthLabel(date, true).slice(0, 3) });
      }
      date = firstOfMonthOnOrAfter(addDays(date, 1));
    }
    return ticks;
  }
  const yearStep = Math.max(1, Math.ceil(days / 365.25 / fit));
  for (let year = Number(dateOfDay(first).slice(0, 4)) + 1; dayNumber(`${year}-01-01`) < last; year += 1) {
    if (year % yearStep === 0) ticks.push({ day: dayNumber(`${year}-01-01`), label: String(year) });
  }
  return ticks;
}

/** The first day of the month on or after `date`. */
function firstOfMonthOnOrAfter(date) {
  if (date.endsWith('-01')) return date;
  const [y, m] = date.split('-').map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}
