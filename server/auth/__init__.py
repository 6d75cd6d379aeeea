"""Signing in: who is calling (:mod:`.principal`), what each may do (:mod:`.policy`), the OpenID
Connect flow (:mod:`.oidc`), browser sessions (:mod:`.websessions`), personal API tokens
(:mod:`.personal_tokens`) and the HTTP endpoints for them (:mod:`.endpoints`)."""
