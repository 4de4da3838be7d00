"""MongoDB in compose: a one-member replica set, and each service its own user and database.

deploy/compose/mongodb-init.js runs under mongosh (JavaScript on Node.js); here it runs on
Node.js against a recorded stand-in for mongosh's `rs` and `db`, since no MongoDB server is at
hand: what it asks of the server is checked, the server's answers are assumed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

HARNESS = """
const fs = require("fs"), vm = require("vm");
const state = JSON.parse(process.argv[2]);
const calls = [];
class Stop extends Error {}
const context = {
  process: { env: state.env },
  print: (text) => calls.push(["print", text]),
  quit: (code) => { calls.push(["quit", code]); throw new Stop(); },
  sleep: () => { state.primaryAfter -= 1; },
  rs: {
    status: () => {
      const missing = Object.assign(new Error("no config"), {codeName: "NotYetInitialized"});
      if (!state.initiated) throw missing;
      return {ok: 1};
    },
    initiate: (config) => { calls.push(["initiate", config]); state.initiated = true; },
  },
  db: {
    hello: () => ({ isWritablePrimary: state.primaryAfter <= 0 }),
    getSiblingDB: (name) => ({
      getUser: (user) => (state.users.includes(name + "/" + user) ? {user} : null),
      createUser: (spec) => calls.push(["createUser", name, spec]),
      updateUser: (user, spec) => calls.push(["updateUser", name, user, spec]),
    }),
  },
};
try { vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), context); }
catch (error) { if (!(error instanceof Stop)) throw error; }
console.log(JSON.stringify(calls));
"""
SERVICES = ("ingest", "router", "publisher", "metrics")
PASSWORDS = {f"MONGO_{name.upper()}_PASSWORD": f"pw-{name}" for name in SERVICES}


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node not found: `make test` installs it (Debian package nodejs)")
    return found


def run_init(root: Path, **state: Any) -> list[list[Any]]:
    state = {"env": PASSWORDS, "initiated": False, "primaryAfter": 0, "users": [], **state}
    result = subprocess.run(
        [node(), "-e", HARNESS, "--", str(root / "deploy/compose/mongodb-init.js"),
         json.dumps(state)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    calls: list[list[Any]] = json.loads(result.stdout)
    return calls


def test_first_start_initiates_the_replica_set_and_makes_one_user_per_database(
    root: Path,
) -> None:
    calls = run_init(root, primaryAfter=3)
    (initiate,) = [c for c in calls if c[0] == "initiate"]
    assert initiate[1] == {"_id": "rs0", "members": [{"_id": 0, "host": "mongodb:27017"}]}
    created = {c[1]: c[2] for c in calls if c[0] == "createUser"}
    assert created == {
        f"siaran_{name}": {
            "user": f"siaran-{name}",
            "pwd": f"pw-{name}",
            "roles": [{"role": "readWrite", "db": f"siaran_{name}"}],
        }
        for name in SERVICES
    }
    assert not [c for c in calls if c[0] == "quit"]


def test_a_restart_keeps_the_replica_set_and_updates_the_passwords(root: Path) -> None:
    users = [f"siaran_{name}/siaran-{name}" for name in SERVICES]
    calls = run_init(root, initiated=True, users=users)
    assert [c[0] for c in calls] == ["updateUser"] * len(SERVICES)


def test_a_missing_password_stops_it(root: Path) -> None:
    env = {k: v for k, v in PASSWORDS.items() if k != "MONGO_ROUTER_PASSWORD"}
    calls = run_init(root, env=env)
    assert calls[-1] == ["quit", 1]
    assert ["print", "MONGO_ROUTER_PASSWORD is empty: set it in .env"] in calls


def test_no_primary_stops_it_before_any_user(root: Path) -> None:
    calls = run_init(root, primaryAfter=10_000)
    assert calls[-1] == ["quit", 1]
    assert not [c for c in calls if c[0] in {"createUser", "updateUser"}]


def test_compose_runs_a_replica_set_and_the_services_use_their_own_users(
    compose: dict[str, Any], contract: ModuleType
) -> None:
    services = compose["services"]
    command = " ".join(services["mongodb"]["entrypoint"])
    assert "--replSet rs0" in command
    assert "--keyFile" in command
    init = services["mongodb-init"]
    assert init["depends_on"]["mongodb"]["condition"] == "service_healthy"
    assert "mongodb-init.js" in " ".join(init["entrypoint"])
    for name in contract.KAFKA_ACCESS:  # the services on Kafka and the store
        env = services[name]["environment"]
        assert not any("MONGO_ROOT" in str(v) for v in env.values()), name
        variable = f"MONGO_{name.upper()}_PASSWORD"
        url = urlsplit(env["SIARAN_STORE_URL"].replace(f"${{{variable}:?set {variable}}}", "pw"))
        assert (url.username, url.password) == (f"siaran-{name}", "pw"), name
        query = parse_qs(url.query)
        assert query == {"authSource": [f"siaran_{name}"], "replicaSet": ["rs0"]}, name
        rule = services[name]["depends_on"]["mongodb-init"]
        assert rule["condition"] == "service_completed_successfully"
