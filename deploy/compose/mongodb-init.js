// Siaran's MongoDB, run by the compose service `mongodb-init` as the root user after every
// start (idempotent): the one-member replica set `rs0` (transactions need a replica set) and
// one user per service, siaran-<service>, allowed only readWrite on its own database
// siaran_<service> (authenticated there). Passwords: MONGO_<SERVICE>_PASSWORD; a changed
// password is applied to the existing user.
const SERVICES = ["ingest", "router", "publisher", "metrics"];
const REPLICA_SET = "rs0";
const MEMBER = process.env.MONGO_REPLICA_HOST || "mongodb:27017";

function initiateReplicaSet() {
  try {
    rs.status();
    return;
  } catch (error) {
    if (error.codeName !== "NotYetInitialized") throw error;
  }
  rs.initiate({ _id: REPLICA_SET, members: [{ _id: 0, host: MEMBER }] });
  print(`replica set ${REPLICA_SET} initiated with ${MEMBER}`);
}

function waitForPrimary(tries) {
  for (let i = 0; i < tries; i++) {
    if (db.hello().isWritablePrimary) return;
    sleep(500);
  }
  print(`no primary after ${tries / 2} s`);
  quit(1);
}

function ensureServiceUsers() {
  for (const service of SERVICES) {
    const variable = `MONGO_${service.toUpperCase()}_PASSWORD`;
    const password = process.env[variable];
    if (!password) {
      print(`${variable} is empty: set it in .env`);
      quit(1);
    }
    const name = `siaran-${service}`;
    const database = db.getSiblingDB(`siaran_${service}`);
    const roles = [{ role: "readWrite", db: `siaran_${service}` }];
    if (database.getUser(name)) {
      database.updateUser(name, { pwd: password, roles: roles });
    } else {
      database.createUser({ user: name, pwd: password, roles: roles });
      print(`user ${name} created`);
    }
  }
}

initiateReplicaSet();
waitForPrimary(120);
ensureServiceUsers();
