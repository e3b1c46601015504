"""Peer: BeyondTrust's Password Safe Python library (beyondtrust-bips-library) against Portcullis's
vault API, plus a raw HTTP client for the negative paths the library does not exercise.

Reads one JSON object on stdin:
  {"api_url", "ca", "api_key", "runas", "client_id", "client_secret", "system", "account",
   "hidden_account", "outsider_client_id", "outsider_client_secret", "secret_password", "file_path"}
or, with "mode": "signin", only signs in with the API key and prints {"status": CODE}.
and prints one JSON object on stdout with what each step saw. The Rust test (crates/cli/tests/
vault_api.rs) asserts on it. Exit 0 when every step ran (the assertions are the test's), 1 with a
one-line reason on stderr when the library raised where it should not have.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings

warnings.simplefilter("ignore")

import requests  # noqa: E402
from secrets_safe_library import authentication, folders, managed_account, secrets_safe  # noqa: E402

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def session(cfg: dict, *, api_key: str | None = None, oauth: bool = False, version: str | None = None):
    """An Authentication signed in the way the library does it (SignAppIn)."""
    req = requests.Session()
    if oauth:
        auth = authentication.Authentication(
            req=req,
            api_url=cfg["api_url"],
            client_id=cfg["client_id"],
            client_secret=cfg["client_secret"],
            verify_ca=cfg["ca"],
            api_version=version,
        )
    else:
        auth = authentication.Authentication(
            req=req, api_url=cfg["api_url"], api_key=api_key, verify_ca=cfg["ca"], api_version=version
        )
    resp = auth.get_api_access()
    return auth, resp


def main() -> int:
    cfg = json.load(sys.stdin)
    out: dict = {}
    if cfg.get("mode") == "signin":
        s = requests.Session()
        s.verify = cfg["ca"]
        r = s.post(f"{cfg['api_url']}/Auth/SignAppIn", headers={"Authorization": f"PS-Auth key={cfg['api_key']};runas={cfg['runas']}"})
        json.dump({"status": r.status_code, "body": r.json()}, sys.stdout)
        return 0
    path = f"{cfg['system']}/{cfg['account']}"

    # 1. API key (key;runas=user;) : the library's main flow — find the account by system and
    #    account name, request with ConflictOption reuse, read the credential, check in.
    auth, resp = session(cfg, api_key=f"{cfg['api_key']};runas={cfg['runas']};")
    out["signin_key_status"] = resp.status_code
    out["signin_key_user"] = resp.json().get("UserName") if resp.status_code == 200 else None
    ma = managed_account.ManagedAccount(authentication=auth)
    found = ma.get_managed_accounts(system_name=cfg["system"], account_name=cfg["account"])
    out["found_account"] = {k: found.get(k) for k in ("SystemId", "AccountId", "SystemName", "AccountName")}
    out["secret_via_key"] = ma.get_secret(path)
    out["signout_key"] = auth.sign_app_out()
    # The signed-out cookie no longer works.
    r = auth._req.get(f"{cfg['api_url']}/ManagedAccounts")
    out["after_signout_status"] = r.status_code

    # 2. OAuth client credentials, then the same flow (the password was rotated at check-in).
    auth2, resp2 = session(cfg, oauth=True, version="3.2")
    out["signin_oauth_status"] = resp2.status_code
    out["signin_oauth_user"] = resp2.json().get("UserName") if resp2.status_code == 200 else None
    ma2 = managed_account.ManagedAccount(authentication=auth2)
    out["secret_via_oauth"] = ma2.get_secret(path)

    # 3. Secrets Safe: a folder, a credential secret and a file secret, read back by path.
    fo = folders.Folder(authentication=auth2)
    folder = fo.create_folder(name="Team", parent_id=None, description="interop")
    ss = secrets_safe.SecretsSafe(authentication=auth2)
    owners = [{"user_id": resp2.json()["UserId"]}]
    ss.create_secret(
        title="db", folder_id=folder["Id"], username="svc", password=cfg["secret_password"], description="d", owners=owners
    )
    ss.create_secret(title="cert.txt", folder_id=folder["Id"], file_path=cfg["file_path"], description="f", owners=owners)
    out["secret_by_path"] = ss.get_secret("Team/db")
    out["file_by_path"] = ss.get_secret("Team/cert.txt")
    listed = ss.get_all_secrets_by_folder_path("Team")
    out["listed_titles"] = sorted(k for k in listed if not k.endswith("-metadata"))
    auth2.sign_app_out()

    # 4. Negative paths over raw HTTP (the library turns them into exceptions without codes).
    s = requests.Session()
    s.verify = cfg["ca"]
    base = cfg["api_url"]
    r = s.post(f"{base}/Auth/SignAppIn", headers={"Authorization": f"PS-Auth key={cfg['api_key']}; runas={cfg['runas']};"})
    out["raw_signin"] = r.status_code
    r = s.get(f"{base}/ManagedAccounts", params={"systemName": cfg["system"], "accountName": cfg["hidden_account"]})
    out["hidden_status"] = r.status_code
    listed = s.get(f"{base}/managedaccounts").json()
    out["listed_accounts"] = sorted(a["AccountName"] for a in listed)
    acc = s.get(f"{base}/ManagedAccounts", params={"SYSTEMNAME": cfg["system"], "accountname": cfg["account"], "version": "9.9"}).json()
    body = {"systemid": acc["SystemId"], "AccountId": acc["AccountId"], "DurationMinutes": 0, "Reason": "neg"}
    out["duration_zero"] = s.post(f"{base}/Requests", json=body).status_code
    body["DurationMinutes"] = acc["MaximumReleaseDuration"] + 1
    r = s.post(f"{base}/Requests", json=body)
    out["duration_over"] = r.status_code
    out["duration_over_body"] = r.json()
    body["DurationMinutes"] = 5
    first = s.post(f"{base}/Requests", json=body)
    out["first_request"] = first.status_code
    second = s.post(f"{base}/Requests", json=body)
    out["second_request"] = second.status_code
    out["second_request_body"] = second.json()
    rid = first.json()
    out["credentials_before"] = s.get(f"{base}/Credentials/{rid}").status_code
    out["checkin"] = s.put(f"{base}/Requests/{rid}/Checkin", json={}).status_code
    r = s.get(f"{base}/credentials/{rid}")
    out["credentials_after_checkin"] = r.status_code
    out["credentials_after_checkin_body"] = r.json()
    out["unknown_endpoint"] = s.get(f"{base}/NoSuchThing").status_code

    # A user outside the requesters group: the registration refuses them (401); signed in through
    # their own OAuth client, they may not request the account (403).
    o = requests.Session()
    o.verify = cfg["ca"]
    r = o.post(f"{base}/Auth/SignAppIn", headers={"Authorization": f"PS-Auth key={cfg['api_key']}; runas=bob;"})
    out["outsider_key_signin"] = r.status_code
    tok = o.post(
        f"{base}/Auth/connect/token",
        data={"grant_type": "client_credentials", "client_id": cfg["outsider_client_id"], "client_secret": cfg["outsider_client_secret"]},
    ).json()
    r = o.post(f"{base}/Auth/SignAppIn", headers={"Authorization": f"Bearer {tok['access_token']}"})
    out["outsider_signin"] = r.status_code
    r = o.post(f"{base}/Requests", json=body)
    out["outsider_request"] = r.status_code
    out["outsider_request_body"] = r.json()
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - one line for the test's failure message
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
