"""The first minutes of a Python user, against the installed wheel:
register, log in, verify the access token, check a permission, refresh,
and see a replayed refresh token refused. Run by tests/dist/install.sh in
a fresh virtualenv, outside the repository's python/ folder."""

import sys
import tempfile
from pathlib import Path

import doorward

here = Path(doorward.__file__).resolve()
assert Path(sys.prefix).resolve() in here.parents, f"doorward imported from {here}, not the venv"
print(f"doorward {doorward.__version__} from {here.parent}")

with tempfile.TemporaryDirectory() as folder:
    dw = doorward.Doorward(
        database_url=f"sqlite://{folder}/app.db",
        jwt_secret="a-secret-of-at-least-thirty-two-bytes!",
    )
    reg = dw.register_user("john", "john@example.com", "correct horse battery")
    pair = dw.login("john", "correct horse battery", doorward.ClientInfo(ip="203.0.113.7"))
    assert isinstance(pair, doorward.TokenPair), pair
    principal = dw.verify_token(pair.access_token)
    assert principal.user_id == reg.user.id, (principal.user_id, reg.user.id)
    assert dw.can(principal.user_id, "users:read")  # the default "user" role
    assert not dw.can(principal.user_id, "posts:publish")
    dw.roles.create("editor", ["posts:*"])
    dw.roles.grant(principal.user_id, "editor")
    assert dw.can(principal.user_id, "posts:publish")
    dw.refresh_token(reg.tokens.refresh_token)
    try:
        dw.refresh_token(reg.tokens.refresh_token)
    except doorward.TokenReusedError as err:
        assert err.code == "token_reused"
    else:
        raise AssertionError("a replayed refresh token was accepted")
print("python flow: register, login, verify, can, refresh, replay refused")
