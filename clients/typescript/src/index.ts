// A typed client of the kabinet API. The types (`schema.d.ts`) are generated from the
// API's OpenAPI document by openapi-typescript (`make client` regenerates them; `make
// test` fails when the committed ones differ); calls go through openapi-fetch, so every
// path, parameter, body and answer is checked by the compiler.

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, paths };

/** A problem+json answer: `code` is stable, `detail` is for people. */
export type Problem = components["schemas"]["Problem"];

export interface KabinetOptions {
  /** The API's base URL: `http://127.0.0.1:3000` locally (`make dev`). */
  baseUrl: string;
  /** The signed-in person's ID token (locally: `make token`). */
  token: string | (() => string | Promise<string>);
  /** A fetch to use instead of the global one (tests, server-side rendering). */
  fetch?: typeof globalThis.fetch;
}

/** A client whose every call sends the person's ID token. */
export function createKabinetClient(options: KabinetOptions) {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const auth: Middleware = {
    async onRequest({ request }) {
      const token = typeof options.token === "function" ? await options.token() : options.token;
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

export type KabinetClient = ReturnType<typeof createKabinetClient>;

/** A new `Idempotency-Key` for a creating POST: retries with it return the first answer. */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
