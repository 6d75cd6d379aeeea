// A real OpenID Connect provider for the sign-in tests: panva/oidc-provider (OpenID Certified),
// with one confidential client that must use PKCE, accounts given by the test, and a tiny login
// form instead of a password check (the tests sign in by typing a username).
//
//   node provider.mjs '<json>'   with {"port", "client_id", "client_secret", "redirect_uri",
//                                       "accounts": {"<username>": {"email", "name", "groups"}}}
//
// Prints one line `ready <issuer>` on stdout once it listens.

import { createServer } from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = config.accounts;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: [config.redirect_uri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
  // The claims of the requested scopes go in the ID token (Clarify reads them there).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["clarify-test-oidc-cookie-key"] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: true,
          name: account.name,
          groups: account.groups ?? [],
        };
      },
    };
  },
});
provider.on("server_error", (ctx, err) => console.error("oidc server_error", err));

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  return `<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test identity provider</h1>
${error ? `<p id="error">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="login" autofocus></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const uid = details.uid;
  if (req.method === "GET") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(loginPage(uid));
    return;
  }
  const form = await readForm(req);
  const accountId = form.get("login") ?? "";
  if (!accounts[accountId]) {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(loginPage(uid, "unknown user"));
    return;
  }
  // Signing in grants the requested scopes: no separate consent step in the tests.
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope ?? "openid"));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith("/interaction/")) {
    interaction(req, res).catch((err) => {
      console.error("interaction failed", err);
      res.writeHead(400, { "Content-Type": "text/plain" });
      res.end(String(err?.message ?? err));
    });
    return;
  }
  callback(req, res);
});
server.listen(config.port, "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
