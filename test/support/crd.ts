// Installs the SmsExperiment CRD into a test cluster, once per cluster per run, for every suite that
// needs the resource. It installs the CRD generated from the current schema (not the committed file:
// the unit test holds those two equal), waits for Established, then for the resource to be served.
import { CRD_NAME, renderCrdYaml } from '../../src/crd/crd.ts';
import { GROUP, PLURAL } from '../../src/crd/schema.ts';
import type { CommandResult, TestCluster } from './cluster.ts';
import { eventually } from './eventually.ts';

const FIELD_MANAGER = 'smsx-tests';

const installations = new WeakMap<TestCluster, Promise<void>>();

/** Idempotent: concurrent and later calls for the same cluster share one installation. */
export function installCrd(cluster: TestCluster): Promise<void> {
  const existing = installations.get(cluster);
  if (existing !== undefined) return existing;
  const installation = install(cluster);
  installations.set(cluster, installation);
  // A failed installation is not cached, so that the next suite tries again and reports its own error.
  installation.catch(() => installations.delete(cluster));
  return installation;
}

function describeFailure(what: string, result: CommandResult): Error {
  return new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
}

async function install(cluster: TestCluster): Promise<void> {
  // Server-side apply: re-applying an unchanged CRD is a no-op, and --force-conflicts takes the fields
  // over from whoever installed it before (an operator run, another field manager).
  const applied = await cluster.kubectl(
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
    { input: renderCrdYaml() },
  );
  if (applied.code !== 0) throw describeFailure(`applying CRD ${CRD_NAME}`, applied);

  const established = await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${CRD_NAME}`]);
  if (established.code !== 0) throw describeFailure(`waiting for CRD ${CRD_NAME} to be Established`, established);

  // Established means the API server accepted the schema; discovery and the REST endpoint follow a
  // moment later, and a suite's first kubectl call must not race them.
  await eventually(`${PLURAL}.${GROUP} to be served`, async () => {
    const listed = await cluster.kubectl(['get', `${PLURAL}.${GROUP}`, '--all-namespaces', '-o', 'name']);
    if (listed.code !== 0) throw describeFailure(`listing ${PLURAL}.${GROUP}`, listed);
  });
}
