"""Microsoft's MSAL for Python against the deltacal emulator (`sim --tls`), as a new user of the
emulator would try it: the device flow, an account kept, and a silent sign-in after the access
token has expired. Prints one JSON line with what worked; exits non-zero when something failed.

Usage: check.py BASE_URL CERTIFICATE_PEM
"""

import json
import sys

import msal
import requests


def fail(what, detail):
    print(json.dumps({"failed": what, "detail": detail}))
    sys.exit(1)


def main():
    base, cert = sys.argv[1], sys.argv[2]
    session = requests.Session()
    session.verify = cert  # the emulator's self-signed certificate
    # REQUESTS_CA_BUNDLE and the like would override it: this session talks to loopback only.
    session.trust_env = False
    cache = msal.SerializableTokenCache()
    app = msal.PublicClientApplication(
        "deltacal-msal-check",
        authority=f"{base}/common",
        instance_discovery=False,
        http_client=session,
        token_cache=cache,
    )
    scopes = ["https://graph.microsoft.com/Calendars.Read"]
    flow = app.initiate_device_flow(scopes=scopes)
    if "user_code" not in flow:
        fail("initiate_device_flow", flow)
    # The emulator approves the code at its first poll (--auto-approve).
    result = app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        fail("acquire_token_by_device_flow", result)
    accounts = app.get_accounts()
    if not accounts:
        fail("get_accounts", "no account kept (id_token or client_info missing?)")
    first = result["access_token"]

    # The access token expires: in MSAL's cache, so the silent call must use the refresh token.
    state = json.loads(cache.serialize())
    for token in state.get("AccessToken", {}).values():
        token["expires_on"] = "0"
        token["extended_expires_on"] = "0"
        token.pop("refresh_on", None)
    cache.deserialize(json.dumps(state))
    silent = app.acquire_token_silent(scopes, account=accounts[0])
    if not silent or "access_token" not in silent:
        fail("acquire_token_silent", silent)
    print(
        json.dumps(
            {
                "device_flow": True,
                "accounts": len(accounts),
                "silent_after_expiry": silent["access_token"] != first,
                "username": accounts[0].get("username"),
            }
        )
    )


if __name__ == "__main__":
    main()
