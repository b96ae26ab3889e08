// The OpenAPI 3.1 document, generated from the routes' own schemas (collected by an
// onRoute hook), so it cannot drift from what the server validates.

const pathOf = (url) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function operation(route) {
  const s = route.schema ?? {};
  const op = { summary: s.summary, responses: {} };
  if (s.security) op.security = s.security;
  const parameters = [];
  for (const [where, schema] of [['path', s.params], ['query', s.querystring]]) {
    for (const [name, p] of Object.entries(schema?.properties ?? {})) {
      parameters.push({ name, in: where, required: where === 'path' || (schema.required ?? []).includes(name), schema: p });
    }
  }
  if (s.raw) parameters.push({ name: s.raw, in: 'header', required: true, schema: { type: 'string' }, description: 'base64 HMAC-SHA256 of the raw body' });
  if (parameters.length) op.parameters = parameters;
  if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: s.body } } };
  if (s.raw) op.requestBody = { required: true, content: { 'application/json': { schema: { type: 'object' } }, 'application/x-www-form-urlencoded': { schema: { type: 'string' } } } };
  for (const [status, schema] of Object.entries(s.response ?? { 200: {} })) {
    op.responses[status] = { description: status === '200' ? 'OK' : `error ${status}`, content: { 'application/json': { schema } } };
  }
  return op;
}

/** Returns {collect(route), document()}: add `collect` as the app's onRoute hook. */
export function openapi({ title = 'loyalty-engine', version = '0.1.0' } = {}) {
  const routes = [];
  return {
    collect(route) {
      const methods = [].concat(route.method).filter((m) => m !== 'HEAD');
      if (!route.schema?.hide) for (const m of methods) routes.push({ method: m.toLowerCase(), url: route.url, schema: route.schema });
    },
    document() {
      const paths = {};
      for (const r of routes) (paths[pathOf(r.url)] ??= {})[r.method] = operation(r);
      return {
        openapi: '3.1.0',
        info: { title, version },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        paths,
      };
    },
  };
}
