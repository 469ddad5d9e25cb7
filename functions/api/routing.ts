import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HttpError } from '../shared/errors.ts';

/** Answers one method of a route, with the route's `{name}` segments decoded. */
export type RouteHandler = (
  event: APIGatewayProxyEvent,
  params: Record<string, string>,
) => Promise<APIGatewayProxyResult>;

/** A route: a path template (`{name}` is one segment) and the handler of each method. */
export interface Route {
  readonly template: string;
  readonly methods: Partial<Record<string, RouteHandler>>;
}

/**
 * Routes an event to its handler: a path no route matches is 404, a method its route lacks is 405 with the
 * route's methods in `Allow`. A trailing slash is ignored.
 */
export function createRouter(routes: readonly Route[]) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const path = event.path.length > 1 ? event.path.replace(/\/$/, '') : event.path;
    const segments = path.split('/').slice(1);
    for (const route of routes) {
      const params = matchTemplate(route.template, segments);
      if (!params) continue;
      const run = route.methods[event.httpMethod.toUpperCase()];
      if (!run) {
        const allow = Object.keys(route.methods).join(', ');
        throw new HttpError(405, `${event.httpMethod} is not allowed on ${route.template}`, {
          fix: `Use ${allow}.`,
          headers: { allow },
        });
      }
      return run(event, params);
    }
    throw new HttpError(404, `there is no route ${event.httpMethod} ${path}`, {
      fix:
        'See GET /openapi.json for the routes: /accounts, /accounts/{accountId}, /accounts/{accountId}/hold, ' +
        '/accounts/requests/{requestId}, /accounts/requests/{requestId}/approval.',
    });
  };
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/').slice(1);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i]!;
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) {
      if (!segment) return undefined;
      try {
        params[name] = decodeURIComponent(segment);
      } catch {
        return undefined;
      }
    } else if (part !== segment) return undefined;
  }
  return params;
}
