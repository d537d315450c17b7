// The front-end quick start (README): sign in with a dev token, create an organization,
// a class and an invitation link, then read the members page by page. Compiled with
// `tsc --strict` by `make test`; run it against `make dev` with
//   KABINET_TOKEN=$(make -s token EMAIL=me@example.com) npx tsx examples/quickstart.ts
import { createKabinetClient, idempotencyKey, type components } from "../src/index";

type Member = components["schemas"]["MemberView"];

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

export async function quickstart(baseUrl: string, token: string): Promise<Member[]> {
  const api = createKabinetClient({ baseUrl, token });

  const me = await api.GET("/v1/me");
  if (me.error) throw new Error(`${me.error.code}: ${me.error.detail ?? ""}`);
  console.log(`signed in as ${me.data.name}`);

  const org = await api.POST("/v1/orgs", {
    params: { header: { "Idempotency-Key": idempotencyKey() } },
    body: { name: "Гимназия № 5" },
  });
  if (org.error) throw new Error(`${org.error.code}: ${org.error.detail ?? ""}`);
  const orgId = org.data.id;

  const cls = await api.POST("/v1/orgs/{org}/classes", {
    params: { path: { org: orgId }, header: { "Idempotency-Key": idempotencyKey() } },
    body: { grade: 5, letter: "А", year: "2026/2027" },
  });
  if (cls.error) throw new Error(`${cls.error.code}: ${cls.error.detail ?? ""}`);

  const link = await api.POST("/v1/orgs/{org}/invite-links", {
    params: { path: { org: orgId }, header: { "Idempotency-Key": idempotencyKey() } },
    body: {
      roles: [{ role: "student", class_ids: [cls.data.id] }],
      expires_at: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    },
  });
  if (link.error) throw new Error(`${link.error.code}: ${link.error.detail ?? ""}`);
  console.log(`invitation link: ${link.data.url}`);

  // Lists are pages: follow `next_cursor` until it is null.
  const members: Member[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.GET("/v1/orgs/{org}/members", {
      params: { path: { org: orgId }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
    });
    if (page.error) throw new Error(`${page.error.code}: ${page.error.detail ?? ""}`);
    members.push(...page.data.items);
    cursor = page.data.next_cursor ?? undefined;
  } while (cursor);

  // The inbox: its unread count (a badge), then everything up to the newest marked read.
  const inbox = await api.GET("/v1/me/notifications", { params: { query: { limit: 20 } } });
  if (inbox.error) throw new Error(`${inbox.error.code}: ${inbox.error.detail ?? ""}`);
  console.log(`inbox: ${inbox.data.unread} unread`);
  const newest = inbox.data.items[0];
  if (newest) {
    const read = await api.POST("/v1/me/notifications/read", { body: { up_to: newest.id } });
    if (read.error) throw new Error(`${read.error.code}: ${read.error.detail ?? ""}`);
  }
  return members;
}

if (env["KABINET_TOKEN"]) {
  const members = await quickstart(env["KABINET_URL"] ?? "http://127.0.0.1:3000", env["KABINET_TOKEN"]);
  console.log(`${members.length} member(s)`);
}
