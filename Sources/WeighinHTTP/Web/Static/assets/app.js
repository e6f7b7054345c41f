// The weighin web app: signs up, logs in and out, and on one page logs weights, lists, edits and deletes them,
// charts them with the trend and the goal, tells the statistics and the goal's progress in words, sets the goal,
// imports and exports, and changes the display unit, the password, or deletes the account.

import * as api from './api.js';
import { byId, el } from './dom.js';
import { drawChart } from './chart.js';
import {
  addDays, localOffset, longDate, nowTime, number, progressSentences, shortDate, statsSentences, today, weight,
} from './format.js';

/** Labels of the API's field names, for error messages. */
const fieldLabels = {
  email: 'Email', name: 'Name', password: 'Password', weight_unit: 'Unit', weight: 'Weight', unit: 'Unit',
  recorded_on: 'Date', measured_at: 'Time', body_fat_percent: 'Body fat %', note: 'Note',
  target_weight: 'Target weight', target_date: 'Target date', start_weight: 'Start weight',
  current_password: 'Current password', new_password: 'New password',
};

const rangeWords = { 30: 'in the last 30 days', 90: 'in the last 90 days', 365: 'in the last year', all: 'in all' };
const pageRows = 20;

const state = {
  user: null,
  entries: [],
  shownRows: pageRows,
  goal: null,
  trend: [],
  editing: null,
  entryKey: crypto.randomUUID(),
  refreshes: 0,
};

// ---------------------------------------------------------------- messages

/** Shows an error in the form's `role="alert"` element, marking the inputs it names. */
function showError(form, error) {
  const alert = form.querySelector('[role="alert"]');
  clearMessages(form);
  const lines = [];
  for (const failure of error.errors ?? []) {
    const label = fieldLabels[failure.field] ?? failure.field;
    lines.push(`${label}: ${failure.message}`);
    const input = form.querySelector(`[name="${CSS.escape(failure.field)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
  }
  let text = error.message;
  if (error.row !== undefined && error.row !== null) text = `Row ${error.row}: ${text}`;
  if (error.status === 429 && error.retryAfter) text += ` Try again in ${waitWords(Number(error.retryAfter))}.`;
  alert.append(text);
  if (lines.length > 0) alert.append(el('ul', {}, lines.map((line) => el('li', { text: line }))));
}

const waitWords = (seconds) => (seconds >= 90 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`);

/** Shows what happened in the form's `role="status"` element. */
function showNotice(form, text) {
  clearMessages(form);
  form.querySelector('[role="status"]').textContent = text;
}

function clearMessages(form) {
  for (const region of form.querySelectorAll('[role="alert"], [role="status"]')) region.replaceChildren();
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** Runs `action` for `form` with its submit button disabled, showing a failure in its alert. */
async function busy(form, action) {
  const buttons = form.querySelectorAll('button');
  for (const button of buttons) button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (!(error instanceof api.ApiError)) throw error;
    // A session that ended is told on the welcome screen (api.whenSessionEnds); everything else here.
    if (error.code !== 'unauthorized') showError(form, error);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

// ---------------------------------------------------------------- screens

function showWelcome(message = '') {
  state.user = null;
  byId('loading').hidden = true;
  byId('app').hidden = true;
  byId('sections').hidden = true;
  byId('user-name').hidden = true;
  byId('log-out').hidden = true;
  byId('welcome').hidden = false;
  byId('welcome-status').textContent = message;
  for (const form of [byId('login-form'), byId('sign-up-form')]) {
    form.reset();
    clearMessages(form);
  }
  byId('sign-up-form').hidden = true;
  byId('login-form').hidden = false;
}

async function showApp(user) {
  state.user = user;
  byId('loading').hidden = true;
  byId('welcome').hidden = true;
  byId('app').hidden = false;
  byId('sections').hidden = false;
  byId('user-name').textContent = user.name;
  byId('signed-in-as').textContent = `Logged in as ${user.name} (${user.email}).`;
  byId('user-name').hidden = false;
  byId('log-out').hidden = false;
  byId('settings-unit').value = user.weight_unit;
  byId('goal-unit').textContent = user.weight_unit;
  byId('weight-heading').textContent = `Weight (${user.weight_unit})`;
  resetEntryForm();
  state.goal = await api.goal();
  await refresh();
}

api.whenSessionEnds(() => showWelcome('Your session has ended: log in again.'));

// ---------------------------------------------------------------- signing up and in

byId('show-sign-up').addEventListener('click', () => {
  byId('login-form').hidden = true;
  byId('sign-up-form').hidden = false;
  byId('sign-up-email').focus();
});

byId('show-log-in').addEventListener('click', () => {
  byId('sign-up-form').hidden = true;
  byId('login-form').hidden = false;
  byId('login-email').focus();
});

byId('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  busy(form, async () => {
    const user = await api.logIn(form.email.value, form.password.value);
    await showApp(user);
    byId('entry-weight').focus();
  });
});

byId('sign-up-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  busy(form, async () => {
    await api.register({
      email: form.email.value, name: form.name.value, password: form.password.value, weight_unit: form.weight_unit.value,
    });
    const user = await api.logIn(form.email.value, form.password.value);
    await showApp(user);
    byId('entry-weight').focus();
  });
});

byId('log-out').addEventListener('click', async () => {
  try {
    await api.logOut();
  } catch {
    // The token is forgotten here whatever the server said.
  }
  showWelcome('You are logged out.');
  byId('login-email').focus();
});

// ---------------------------------------------------------------- the range, and reading it all

function range() {
  const value = document.querySelector('input[name="range"]:checked').value;
  return { value, from: value === 'all' ? undefined : addDays(today(), 1 - Number(value)), words: rangeWords[value] };
}

for (const radio of document.querySelectorAll('input[name="range"]')) {
  radio.addEventListener('change', () => refresh());
}

/** Reads the range's entries, statistics and trend, and the goal's progress (which carries the goal, in the display
 *  unit) when there is a goal, and shows them. The latest call wins. Whether there is a goal is asked once, when the
 *  app starts (GET /v1/goal answers 404 when there is none), and known from then on: the app sets and clears it.
 *  (With the change feed of API.md Part 2, GET /v1/changes, this could read only what changed since.) */
async function refresh() {
  const call = ++state.refreshes;
  const { from, words } = range();
  try {
    const [listing, stats, trend, progress] = await Promise.all([
      api.entries(from), api.stats(from), api.trend(from), state.goal ? api.progress() : null]);
    if (call !== state.refreshes) return;
    state.entries = listing.entries;
    state.shownRows = pageRows;
    state.goal = progress?.goal ?? null;
    state.trend = trend.points;
    renderEntries(listing.complete, words);
    renderChart();
    renderWords(stats, progress, words);
    renderGoalForm();
  } catch (error) {
    if (!(error instanceof api.ApiError)) throw error;
    if (call === state.refreshes && api.signedIn()) byId('entries-alert').textContent = error.message;
  }
}

function renderChart() {
  const { from, words } = range();
  const newest = state.entries[0]?.recorded_on;
  const to = newest && newest > today() ? newest : today();
  byId('legend-goal').hidden = state.goal === null;
  drawChart(byId('chart'), {
    entries: state.entries, trend: state.trend, goal: state.goal, unit: state.user.weight_unit, from, to, rangeWords: words,
  });
}

// The chart is drawn for its width: again when that changes (a frame later, so drawing never re-enters layout).
let chartWidth = 0;
let resizeFrame = 0;
new ResizeObserver(([observed]) => {
  const width = Math.round(observed.contentRect.width);
  if (width === chartWidth || width === 0) return;
  chartWidth = width;
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => { if (state.user) renderChart(); });
}).observe(byId('chart'));

// ---------------------------------------------------------------- progress in words

function renderWords(stats, progress, words) {
  const goalWords = byId('goal-words');
  if (progress) {
    const { headline, sentences } = progressSentences(progress);
    const children = [el('p', { class: 'big', text: headline })];
    if (progress.percent_complete !== null) {
      children.push(el('progress', { max: 100, value: progress.percent_complete, 'aria-label': 'Progress to the goal' }));
    }
    children.push(...sentences.map((text) => el('p', { text })));
    goalWords.replaceChildren(...children);
  } else {
    goalWords.replaceChildren(el('p', { class: 'muted', text: 'No goal yet: set one below to see when you will reach it.' }));
  }
  const latest = state.trend.at(-1);
  const statsWords = byId('stats-words');
  const children = [];
  if (stats.latest) {
    children.push(el('p', { class: 'big' }, weight(stats.latest.weight, stats.unit),
      el('small', { text: ` on ${longDate(stats.latest.recorded_on)}` })));
  }
  if (latest) children.push(el('p', { text: `Trend: ${weight(latest.average, stats.unit)}.` }));
  children.push(...statsSentences(stats, words).map((text) => el('p', { text })));
  statsWords.replaceChildren(...children);
}

// ---------------------------------------------------------------- entries: the form

const entryForm = byId('entry-form');

function resetEntryForm() {
  state.editing = null;
  state.entryKey = crypto.randomUUID();
  entryForm.reset();
  clearMessages(entryForm);
  byId('entry-title').textContent = 'Log a weight';
  byId('entry-cancel').hidden = true;
  entryForm.unit.value = state.user?.weight_unit ?? 'kg';
  entryForm.recorded_on.value = today();
  entryForm.measured_at.value = nowTime();
}

/** A decimal as typed (a comma is a decimal point), as a number, or the text itself for the server to refuse. */
function decimal(text) {
  const trimmed = text.trim().replace(',', '.');
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/** The moment of a reading: the date and time in `offset` (this device's at that moment, by default). */
function measuredAt(date, time, offset) {
  return `${date}T${time}:00${offset ?? localOffset(date, time)}`;
}

/** The form's values as an entry body for POST. */
function entryBody() {
  const body = { weight: decimal(entryForm.weight.value), unit: entryForm.unit.value, recorded_on: entryForm.recorded_on.value };
  if (entryForm.measured_at.value) body.measured_at = measuredAt(body.recorded_on, entryForm.measured_at.value);
  if (entryForm.body_fat_percent.value.trim()) body.body_fat_percent = decimal(entryForm.body_fat_percent.value);
  if (entryForm.note.value.trim()) body.note = entryForm.note.value;
  return body;
}

/** What the form changes of the entry being edited, as a PATCH body (only the fields that changed). */
function entryChanges(entry) {
  const changes = {};
  const weightText = entryForm.weight.value.trim();
  if (weightText !== String(entry.weight) || entryForm.unit.value !== entry.unit) {
    changes.weight = decimal(weightText);
    changes.unit = entryForm.unit.value;
  }
  const date = entryForm.recorded_on.value;
  const time = entryForm.measured_at.value;
  const oldTime = entry.measured_at ? entry.measured_at.slice(11, 16) : '';
  if (date !== entry.recorded_on || time !== oldTime) {
    changes.recorded_on = date;
    // A changed moment keeps the offset it was recorded in; a new one gets this device's.
    const offset = !entry.measured_at ? undefined : entry.measured_at.endsWith('Z') ? 'Z' : entry.measured_at.slice(-6);
    changes.measured_at = time ? measuredAt(date, time, offset) : null;
  }
  const fat = entryForm.body_fat_percent.value.trim();
  if (fat !== (entry.body_fat_percent === null ? '' : String(entry.body_fat_percent))) {
    changes.body_fat_percent = fat === '' ? null : decimal(fat);
  }
  const note = entryForm.note.value;
  if (note !== (entry.note ?? '')) changes.note = note.trim() === '' ? null : note;
  return changes;
}

entryForm.addEventListener('submit', (event) => {
  event.preventDefault();
  busy(entryForm, async () => {
    const editing = state.editing;
    let saved;
    if (editing) {
      saved = await api.updateEntry(editing.id, entryChanges(editing));
    } else {
      saved = await api.createEntry(entryBody(), state.entryKey);
    }
    resetEntryForm();
    showNotice(entryForm, `${editing ? 'Updated' : 'Saved'}: ${weight(saved.weight, saved.unit)} on ${longDate(saved.recorded_on)}.`);
    await refresh();
    entryForm.weight.focus();
  });
});

byId('entry-cancel').addEventListener('click', () => {
  resetEntryForm();
  entryForm.weight.focus();
});

function startEditing(entry) {
  resetEntryForm();
  state.editing = entry;
  byId('entry-title').textContent = `Edit the entry of ${longDate(entry.recorded_on)}`;
  byId('entry-cancel').hidden = false;
  entryForm.weight.value = String(entry.weight);
  entryForm.unit.value = entry.unit;
  entryForm.recorded_on.value = entry.recorded_on;
  entryForm.measured_at.value = entry.measured_at ? entry.measured_at.slice(11, 16) : '';
  entryForm.body_fat_percent.value = entry.body_fat_percent === null ? '' : String(entry.body_fat_percent);
  entryForm.note.value = entry.note ?? '';
  byId('log').scrollIntoView({ block: 'start' });
  entryForm.weight.focus();
}

// ---------------------------------------------------------------- entries: the table

function renderEntries(complete, words) {
  const body = byId('entries-body');
  const rows = state.entries.slice(0, state.shownRows).map(entryRow);
  if (rows.length === 0) {
    rows.push(el('tr', {}, el('td', { class: 'empty', colspan: 6, text: `No entries ${words}.` })));
  }
  body.replaceChildren(...rows);
  const count = state.entries.length;
  byId('entries-caption').textContent = `${count === 1 ? '1 entry' : `${count}${complete ? '' : '+'} entries`} ${words}, newest first`
    + (count > state.shownRows ? ` (showing ${state.shownRows})` : '');
  byId('entries-more').hidden = count <= state.shownRows;
  byId('entries-alert').replaceChildren();
}

byId('entries-more').addEventListener('click', () => {
  state.shownRows += pageRows;
  renderEntries(true, range().words);
});

/** A row of the table. On a narrow screen the time, body fat and note columns are hidden and the date cell shows
 *  them under the date instead (its `.sub` lines), so a row never needs more than the screen's width. */
function entryRow(entry) {
  const time = entry.measured_at ? entry.measured_at.slice(11, 16) : '';
  const fat = entry.body_fat_percent === null ? '' : `${number(entry.body_fat_percent)} %`;
  const dateId = `entry-${entry.id}`;
  return el('tr', {},
    el('td', { class: 'date', id: dateId }, el('span', { class: 'day', text: shortDate(entry.recorded_on) }),
      time && el('span', { class: 'sub', text: time }),
      fat && el('span', { class: 'sub', text: `body fat ${fat}` }),
      entry.note && el('span', { class: 'sub note-sub', text: entry.note })),
    el('td', { class: 'time', text: time }),
    el('td', { class: 'number', text: number(entry.weight) }),
    el('td', { class: 'number fat', text: fat }),
    el('td', { class: 'note', text: entry.note ?? '' }),
    el('td', { class: 'row-actions' },
      el('button', { type: 'button', class: 'small', 'aria-describedby': dateId, text: 'Edit', onclick: () => startEditing(entry) }),
      el('button', { type: 'button', class: 'small', 'aria-describedby': dateId, text: 'Delete',
        onclick: (event) => removeEntry(entry, event.currentTarget) })));
}

async function removeEntry(entry, button) {
  button.disabled = true;
  const status = byId('entries-status');
  try {
    await api.deleteEntry(entry.id);
    if (state.editing?.id === entry.id) resetEntryForm();
    byId('entries-alert').replaceChildren();
    status.textContent = `Deleted the entry of ${longDate(entry.recorded_on)} (${weight(entry.weight, entry.unit)}).`;
    await refresh();
    byId('entries-title').focus();
  } catch (error) {
    if (!(error instanceof api.ApiError)) throw error;
    button.disabled = false;
    status.replaceChildren();
    byId('entries-alert').textContent = error.message;
  }
}

// ---------------------------------------------------------------- the goal

const goalForm = byId('goal-form');

function renderGoalForm() {
  byId('goal-clear').hidden = state.goal === null;
  if (state.goal) {
    goalForm.target_weight.value = String(state.goal.target_weight);
    goalForm.target_date.value = state.goal.target_date ?? '';
  }
}

goalForm.addEventListener('submit', (event) => {
  event.preventDefault();
  busy(goalForm, async () => {
    const body = { target_weight: decimal(goalForm.target_weight.value), unit: state.user.weight_unit };
    if (goalForm.target_date.value) body.target_date = goalForm.target_date.value;
    const goal = await api.setGoal(body);
    state.goal = goal;
    showNotice(goalForm, `Goal set: ${weight(goal.target_weight, goal.unit)}${goal.target_date ? ` by ${longDate(goal.target_date)}` : ''}.`);
    await refresh();
  });
});

byId('goal-clear').addEventListener('click', () => {
  busy(goalForm, async () => {
    await api.clearGoal();
    state.goal = null;
    goalForm.reset();
    showNotice(goalForm, 'Goal cleared.');
    await refresh();
    goalForm.target_weight.focus();
  });
});

// ---------------------------------------------------------------- import and export

async function download(format) {
  const form = byId('import-form');
  try {
    const response = await api.exportEntries(format);
    const blob = await response.blob();
    const link = el('a', { href: URL.createObjectURL(blob), download: `weighin-${today()}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    showNotice(form, `Exported every entry as ${format.toUpperCase()}.`);
  } catch (error) {
    if (!(error instanceof api.ApiError)) throw error;
    showError(form, error);
  }
}

byId('export-csv').addEventListener('click', () => download('csv'));
byId('export-json').addEventListener('click', () => download('json'));

const importForm = byId('import-form');
importForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const file = importForm.file.files[0];
  if (!file) {
    clearMessages(importForm);
    importForm.querySelector('[role="alert"]').textContent = 'Choose a CSV or JSON file first.';
    importForm.file.setAttribute('aria-invalid', 'true');
    importForm.file.focus();
    return;
  }
  busy(importForm, async () => {
    const json = file.name.toLowerCase().endsWith('.json') || file.type === 'application/json';
    const answer = await api.importEntries(await file.text(), json ? 'application/json' : 'text/csv');
    importForm.reset();
    showNotice(importForm, `Imported ${answer.imported === 1 ? '1 entry' : `${answer.imported} entries`} from ${file.name}.`);
    await refresh();
  });
});

// ---------------------------------------------------------------- settings

const unitForm = byId('unit-form');
unitForm.addEventListener('submit', (event) => {
  event.preventDefault();
  busy(unitForm, async () => {
    const user = await api.updateMe({ weight_unit: unitForm.weight_unit.value });
    await showApp(user);
    showNotice(unitForm, `Weights are now shown in ${user.weight_unit}.`);
  });
});

const passwordForm = byId('password-form');
passwordForm.addEventListener('submit', (event) => {
  event.preventDefault();
  busy(passwordForm, async () => {
    await api.changePassword(passwordForm.current_password.value, passwordForm.new_password.value);
    passwordForm.reset();
    showNotice(passwordForm, 'Password changed. Every other session was logged out.');
  });
});

const dialog = byId('confirm-delete');
byId('delete-account').addEventListener('click', () => {
  clearMessages(dialog);
  byId('confirm-delete-text').textContent = `This deletes the account ${state.user.email}, every entry of it and its `
    + 'goal. It cannot be undone.';
  dialog.showModal();
});
byId('confirm-delete-cancel').addEventListener('click', () => dialog.close());
byId('confirm-delete-yes').addEventListener('click', () => {
  busy(dialog, async () => {
    await api.deleteAccount();
    dialog.close();
    showWelcome('Your account and all its data were deleted.');
    byId('login-email').focus();
  });
});

// ---------------------------------------------------------------- start

async function start() {
  if (!api.signedIn()) {
    showWelcome();
    return;
  }
  try {
    await showApp(await api.me());
  } catch (error) {
    if (!(error instanceof api.ApiError)) throw error;
    if (!api.signedIn()) return; // the session ended: the welcome screen is showing
    showWelcome(error.message);
  }
}

start();
