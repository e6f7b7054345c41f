// The API reference at /docs, built in the browser from the server's own /openapi.json: operations grouped by tag,
// with their parameters, bodies, answers and problem codes, a curl example each, and the schemas they use.

import { byId, el, withCode } from './dom.js';

let doc;

/** The object a `$ref` points at (`#/components/schemas/Entry`), or the value itself. */
function resolve(value) {
  let resolved = value;
  while (resolved && resolved.$ref) {
    resolved = resolved.$ref.slice(2).split('/').reduce((node, key) => node?.[key], doc);
  }
  return resolved ?? {};
}

/** The component name of a schema reference, or null. */
const refName = (schema) => (schema?.$ref ? schema.$ref.split('/').at(-1) : null);

/** Schemas listed at the end: every component but the per-answer problem schemas (their codes are in each answer). */
const listedSchema = (name) => name === 'Problem' || !name.endsWith('Problem');

const schemaLink = (name) => (listedSchema(name) ? el('a', { href: `#schema-${name}` }, el('code', { text: name }))
  : el('code', { text: name }));

/** A schema's type as nodes: a link to a named schema, `string or null`, `array of Entry`, `kg | lb`. */
function typeNodes(schema) {
  const name = refName(schema);
  if (name) return [schemaLink(name)];
  if (schema.const !== undefined) return [el('code', { text: JSON.stringify(schema.const) })];
  if (schema.enum) return [schema.enum.map((value) => JSON.stringify(value)).join(' | ')];
  const types = [].concat(schema.type ?? []);
  const parts = types.map((type) => {
    if (type === 'array') return ['array of ', ...typeNodes(schema.items ?? {})];
    if (type === 'string' && schema.format) return [`string (${schema.format})`];
    return [type];
  });
  if (parts.length === 0) return ['any'];
  return parts.flatMap((part, index) => (index === 0 ? part : [' or ', ...part]));
}

/** The limits a schema states, in words. */
function limits(schema) {
  const said = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    said.push(schema.minLength !== undefined && schema.maxLength !== undefined
      ? `${schema.minLength} to ${schema.maxLength} characters`
      : schema.maxLength !== undefined ? `at most ${schema.maxLength} characters` : `at least ${schema.minLength} characters`);
  }
  if (schema.exclusiveMinimum !== undefined) said.push(`> ${schema.exclusiveMinimum}`);
  if (schema.minimum !== undefined) said.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMaximum !== undefined) said.push(`< ${schema.exclusiveMaximum}`);
  if (schema.maximum !== undefined) said.push(`≤ ${schema.maximum}`);
  if (schema.maxItems !== undefined) said.push(`at most ${schema.maxItems.toLocaleString('en')} items`);
  if (schema.default !== undefined) said.push(`default ${JSON.stringify(schema.default)}`);
  return said.join(', ');
}

/** A two-column table: what is described (name, kind, limits; or an answer's status) beside what it means. */
function specTable(heading, rows, kind = '') {
  return el('table', { class: `spec ${kind}`.trim() },
    el('colgroup', {}, el('col', { class: 'what' }), el('col', {})),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: heading }), el('th', { scope: 'col', text: 'Meaning' }))),
    el('tbody', {}, rows));
}

/** The first cell of a member's or a parameter's row: its name (and whether it is required), then its kind and
 *  type, then the limits its schema states. */
function nameCell(name, required, kind, schema) {
  const said = limits(schema);
  return el('td', {},
    el('code', { class: 'name', text: name }), required ? [' ', el('span', { class: 'required', text: 'required' })] : [],
    el('div', { class: 'type' }, kind ? `${kind} · ` : '', typeNodes(schema)),
    said ? el('div', { class: 'limits', text: said }) : null);
}

/** A table of an object schema's members. */
function fieldsTable(schema) {
  const object = resolve(schema);
  const required = new Set(object.required ?? []);
  const rows = Object.entries(object.properties ?? {}).map(([name, member]) => el('tr', {},
    nameCell(name, required.has(name), '', member),
    el('td', {}, withCode(member.description ?? ''))));
  if (rows.length === 0) return null;
  return specTable('Member', rows);
}

// ---------------------------------------------------------------- one operation

function parametersTable(parameters) {
  const rows = parameters.map(resolve).map((parameter) => el('tr', {},
    nameCell(parameter.name, parameter.required, parameter.in, parameter.schema ?? {}),
    el('td', {}, withCode(parameter.description ?? ''))));
  return specTable('Parameter', rows);
}

function bodySection(requestBody) {
  const body = resolve(requestBody);
  const parts = [el('h4', { text: `Body${body.required ? '' : ' (optional)'}` })];
  if (body.description) parts.push(el('p', {}, withCode(body.description)));
  for (const [type, content] of Object.entries(body.content ?? {})) {
    const schema = content.schema ?? {};
    parts.push(el('p', {}, el('code', { text: type }), ': ', typeNodes(schema)));
    const object = resolve(schema);
    if (object.description && !refName(schema)) parts.push(el('p', {}, withCode(object.description)));
    const table = object.properties ? fieldsTable(schema) : null;
    if (table) parts.push(table);
  }
  return parts;
}

/** The problem codes an error answer's schema allows. */
function problemCodes(schema) {
  const code = resolve(schema).properties?.code;
  if (!code) return [];
  return code.const !== undefined ? [code.const] : code.enum ?? [];
}

function answersTable(responses) {
  const rows = Object.entries(responses).map(([status, answer]) => {
    const response = resolve(answer);
    const body = [];
    for (const [type, content] of Object.entries(response.content ?? {})) {
      const codes = problemCodes(content.schema ?? {});
      body.push(el('div', { class: 'type' }, el('code', { text: type }), content.schema ? [' ', ...typeNodes(content.schema)] : []));
      if (codes.length > 0) {
        body.push(el('div', { class: 'codes' }, 'code ', codes.flatMap((code, index) => [index > 0 ? ', ' : '', el('code', { text: code })])));
      }
    }
    const headers = Object.keys(response.headers ?? {}).filter((name) => name !== 'X-Request-ID');
    if (headers.length > 0) {
      body.push(el('div', { class: 'type' }, 'headers ', headers.flatMap((name, index) => [index > 0 ? ', ' : '', el('code', { text: name })])));
    }
    return el('tr', {},
      el('td', {}, el('strong', { text: status })),
      el('td', {}, el('div', {}, withCode(response.description ?? '')), body));
  });
  return specTable('Status', rows, 'answers');
}

/** Values for a body example, by member name; others follow their type. */
const samples = {
  email: 'ada@example.com', name: 'Ada', password: 'correct horse battery', weight_unit: 'kg', weight: 72.5, unit: 'kg',
  recorded_on: '2026-11-26', measured_at: '2026-11-26T07:30:00+01:00', note: 'after a run', body_fat_percent: 21.4,
  target_weight: 68, target_date: '2027-06-30', current_password: 'correct horse battery',
  new_password: 'a new long passphrase',
};

/** An example body for a schema: its required members, and the date and unit of a weight. */
function example(schema) {
  const object = resolve(schema);
  if ([].concat(object.type).includes('array')) return [example(object.items ?? {})];
  const names = Object.keys(object.properties ?? {});
  const chosen = names.filter((name) => (object.required ?? []).includes(name) || ['unit', 'recorded_on'].includes(name));
  const body = {};
  for (const name of chosen.length > 0 ? chosen : names.slice(0, 1)) {
    const member = resolve(object.properties[name]);
    const type = [].concat(member.type ?? 'string')[0];
    body[name] = name in samples ? samples[name] : member.enum ? member.enum[0]
      : type === 'number' || type === 'integer' ? 1 : type === 'boolean' ? true : 'text';
  }
  return body;
}

/** A curl command for the operation, against this server. */
function curl(method, path, operation) {
  const secured = (operation.security ?? doc.security ?? []).some((requirement) => Object.keys(requirement).length > 0);
  const url = `${location.origin}${path.replace(/\{(\w+)\}/g, (_, name) => `$${name.toUpperCase()}`)}`;
  const lines = [`curl -X ${method.toUpperCase()} "${url}"`];
  if (secured) lines.push('  -H "Authorization: Bearer $TOKEN"');
  const content = resolve(operation.requestBody).content ?? {};
  if (content['application/json']) {
    lines.push('  -H "Content-Type: application/json"');
    lines.push(`  -d '${JSON.stringify(example(content['application/json'].schema ?? {}))}'`);
  } else if (content['text/csv']) {
    lines.push('  -H "Content-Type: text/csv"', '  --data-binary @weights.csv');
  }
  return lines.join(' \\\n');
}

function operationArticle(method, path, operation) {
  const secured = (operation.security ?? doc.security ?? []).some((requirement) => Object.keys(requirement).length > 0);
  const id = operation.operationId ?? `${method}-${path}`;
  const parts = [
    el('h3', {}, el('span', { class: `method ${method}`, text: method.toUpperCase() }), el('code', { text: path }),
      secured ? el('span', { class: 'badge', text: 'bearer token' }) : null),
    el('p', { class: 'summary', text: operation.summary ?? '' }),
  ];
  if (operation.description) parts.push(el('p', {}, withCode(operation.description)));
  if ((operation.parameters ?? []).length > 0) parts.push(el('h4', { text: 'Parameters' }), parametersTable(operation.parameters));
  if (operation.requestBody) parts.push(...bodySection(operation.requestBody));
  parts.push(el('h4', { text: 'Answers' }), answersTable(operation.responses ?? {}));
  parts.push(el('h4', { text: 'Example' }), el('pre', { class: 'curl' }, el('code', { text: curl(method, path, operation) })));
  return el('article', { class: 'operation card', id, 'data-search': `${method} ${path} ${operation.summary ?? ''}`.toLowerCase() }, parts);
}

// ---------------------------------------------------------------- the page

const methods = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

function render() {
  const groups = new Map((doc.tags ?? []).map((tag) => [tag.name, { tag, operations: [] }]));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of methods.filter((m) => item[m])) {
      const operation = item[method];
      const name = operation.tags?.[0] ?? 'other';
      if (!groups.has(name)) groups.set(name, { tag: { name }, operations: [] });
      groups.get(name).operations.push({ method, path, operation });
    }
  }

  const reference = byId('reference');
  const info = doc.info ?? {};
  const bearer = doc.components?.securitySchemes?.bearer;
  reference.append(
    el('section', { class: 'intro card' },
      el('p', {}, el('strong', { text: `${info.title ?? 'API'} ${info.version ?? ''}` }), info.summary ? ` — ${info.summary}` : ''),
      info.description ? el('p', {}, withCode(info.description)) : null,
      bearer ? el('p', {}, 'Authentication: ', withCode(bearer.description ?? 'a bearer token.')) : null,
      el('p', {}, 'Examples call this server; set ', el('code', { text: 'TOKEN' }), ' to a token from ',
        el('code', { text: 'POST /v1/tokens' }), ' first.')),
    el('div', { class: 'field filter' },
      el('label', { for: 'filter', text: 'Filter operations' }),
      el('input', { id: 'filter', type: 'search', autocomplete: 'off', placeholder: 'e.g. entries, goal, POST' })));

  const toc = byId('toc');
  for (const { tag, operations } of groups.values()) {
    if (operations.length === 0) continue;
    const section = el('section', { class: 'tag-section', id: `tag-${tag.name}` },
      el('h2', { text: tag.name }), tag.description ? el('p', {}, withCode(tag.description)) : null,
      operations.map(({ method, path, operation }) => operationArticle(method, path, operation)));
    reference.append(section);
    toc.append(el('h2', {}, el('a', { href: `#tag-${tag.name}`, text: tag.name })),
      el('ul', {}, operations.map(({ method, path, operation }) => el('li', { 'data-search': `${method} ${path} ${operation.summary ?? ''}`.toLowerCase() },
        el('a', { href: `#${operation.operationId}` }, el('span', { class: `method ${method}`, text: method.toUpperCase() }),
          el('code', { text: path }))))));
  }

  const schemas = Object.entries(doc.components?.schemas ?? {}).filter(([name]) => listedSchema(name));
  reference.append(el('section', { class: 'tag-section', id: 'schemas' }, el('h2', { text: 'Schemas' }),
    schemas.map(([name, schema]) => el('article', { class: 'card', id: `schema-${name}` },
      el('h3', {}, el('code', { text: name })),
      schema.description ? el('p', {}, withCode(schema.description)) : null,
      schema.properties ? fieldsTable(schema) : el('p', { class: 'type' }, typeNodes(schema), limits(schema) ? ` (${limits(schema)})` : '')))));
  toc.append(el('h2', {}, el('a', { href: '#schemas', text: 'Schemas' })));

  byId('filter').addEventListener('input', (event) => {
    const query = event.currentTarget.value.trim().toLowerCase();
    for (const node of document.querySelectorAll('[data-search]')) node.hidden = query !== '' && !node.dataset.search.includes(query);
  });
  const count = [...groups.values()].reduce((sum, group) => sum + group.operations.length, 0);
  byId('docs-status').textContent = `${count} operations, from /openapi.json.`;
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

async function start() {
  try {
    const response = await fetch('/openapi.json');
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}.`);
    doc = await response.json();
  } catch (error) {
    byId('docs-status').textContent = '';
    byId('docs-alert').textContent = `The API description cannot be read: ${error.message}`;
    return;
  }
  render();
}

start();
