// Dates, weights and the sentences the app shows: statistics and goal progress in words a person reads.

const dayMs = 86400000;

/** Today's date on this device, `YYYY-MM-DD`. */
export function today() {
  const now = new Date();
  return isoDate(now.getFullYear(), now.getMonth() + 1, now.getDate());
}

/** The time on this device, `HH:MM`. */
export function nowTime() {
  const now = new Date();
  return `${pad(now.getHours())}:${pad(now.getMinutes())}`;
}

const pad = (n) => String(n).padStart(2, '0');
const isoDate = (y, m, d) => `${String(y).padStart(4, '0')}-${pad(m)}-${pad(d)}`;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
export function dayNumber(date) {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / dayMs;
}

/** The `YYYY-MM-DD` date of a day number. */
export function dateOfDay(day) {
  const t = new Date(day * dayMs);
  return isoDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** `date` moved by `days`. */
export const addDays = (date, days) => dateOfDay(dayNumber(date) + days);

function parts(date) {
  const [y, m, d] = date.split('-').map(Number);
  return { y, m, d };
}

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

/** `14 March`, with the year when it is not this year: `14 March 2025`. */
export function longDate(date) {
  const { y, m, d } = parts(date);
  return `${d} ${months[m - 1]}${y === new Date().getFullYear() ? '' : ` ${y}`}`;
}

/** `14 Mar`, with the year when it is not this year: `14 Mar 2025`. */
export function shortDate(date) {
  const { y, m, d } = parts(date);
  return `${d} ${months[m - 1].slice(0, 3)}${y === new Date().getFullYear() ? '' : ` ${y}`}`;
}

/** `Mar 2026` or `2026`, for the chart's axis. */
export function monthLabel(date, withMonth) {
  const { y, m } = parts(date);
  return withMonth ? `${months[m - 1].slice(0, 3)} ${y}` : String(y);
}

/** A number as the API sent it, with at most 2 decimals and a true minus sign. */
export function number(value) {
  const text = String(Math.round(Math.abs(value) * 100) / 100);
  return value < 0 && text !== '0' ? `−${text}` : text;
}

/** `78.2 kg`. */
export const weight = (value, unit) => `${number(value)} ${unit}`;

/** The UTC offset of this device at a local date and time, `+01:00`. */
export function localOffset(date, time) {
  const { y, m, d } = parts(date);
  const [hh, mm] = time.split(':').map(Number);
  const minutes = -new Date(y, m - 1, d, hh, mm).getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `0.4 kg a week down`, `0.4 kg a week up`, or `steady`. */
export function rateWords(rate, unit) {
  if (rate === 0) return 'steady';
  return `${number(Math.abs(rate))} ${unit} a week ${rate < 0 ? 'down' : 'up'}`;
}

/** `2.1 kg down`, `0.3 kg up` or `no change`. */
function changeWords(change, unit) {
  if (change === 0) return 'no change';
  return `${weight(Math.abs(change), unit)} ${change < 0 ? 'down' : 'up'}`;
}

/** The range's statistics as sentences. */
export function statsSentences(stats, rangeWords) {
  const unit = stats.unit;
  if (stats.count === 0) return [`No entries ${rangeWords}.`];
  const readings = stats.count === 1 ? '1 reading' : `${stats.count} readings`;
  const sentences = [];
  if (stats.count === 1) {
    sentences.push(`${readings} ${rangeWords}: ${weight(stats.latest.weight, unit)} on ${longDate(stats.latest.recorded_on)}.`);
    return sentences;
  }
  sentences.push(`${readings} ${rangeWords}, from ${weight(stats.first.weight, unit)} on ${longDate(stats.first.recorded_on)} `
    + `to ${weight(stats.latest.weight, unit)} on ${longDate(stats.latest.recorded_on)}: ${changeWords(stats.change, unit)}.`);
  sentences.push(`Lowest ${weight(stats.min, unit)}, highest ${weight(stats.max, unit)}, mean ${weight(stats.mean, unit)}.`);
  if (stats.weekly_rate !== null) {
    let rate = `Fitted over these readings: ${rateWords(stats.weekly_rate, unit)}`;
    const interval = stats.weekly_rate_ci95;
    if (interval && interval[0] < 0 && interval[1] > 0) {
      rate += ', though too few readings yet to tell a loss from a gain';
    } else if (interval) {
      const [near, far] = [Math.abs(interval[1]), Math.abs(interval[0])].sort((a, b) => a - b);
      rate += ` (95 % likely between ${number(near)} and ${number(far)} ${unit} a week)`;
    }
    sentences.push(`${rate}.`);
  }
  return sentences;
}

/** Goal progress as a headline and sentences: "0.4 kg a week down, on track for 14 March". */
export function progressSentences(progress) {
  const goal = progress.goal;
  const unit = goal.unit;
  const headline = `Goal: ${weight(goal.target_weight, unit)}${goal.target_date ? ` by ${longDate(goal.target_date)}` : ''}`;
  const sentences = [];
  if (progress.current === null) {
    sentences.push('Log a weight to see your progress.');
    return { headline, sentences };
  }
  if (progress.state === 'reached') {
    sentences.push(`Reached: your trend is ${weight(progress.current, unit)}. Well done!`);
    return { headline, sentences };
  }
  const done = progress.percent_complete > 0
    ? `, ${number(progress.percent_complete)} % of the way from ${weight(goal.start_weight, unit)}` : '';
  sentences.push(`${weight(Math.abs(progress.remaining), unit)} to go from your trend of ${weight(progress.current, unit)}${done}.`);
  const rate = progress.weekly_rate === null ? '' : rateWords(progress.weekly_rate, unit);
  switch (progress.state) {
    case 'on_track':
      sentences.push(`${capitalised(rate)}, on track for ${longDate(progress.projected_date)}.`);
      break;
    case 'behind':
      sentences.push(`${capitalised(rate)}: at this pace you get there on ${longDate(progress.projected_date)}, `
        + 'after your target date.');
      break;
    case 'wrong_direction':
      sentences.push(progress.weekly_rate === 0 ? 'Your weight has been steady lately: no nearer the goal.'
        : `${capitalised(rate)}: moving away from the goal lately.`);
      break;
    default:
      sentences.push('Weigh in on at least 4 days within 4 weeks to see when you will get there.');
  }
  return { headline, sentences };
}

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);
