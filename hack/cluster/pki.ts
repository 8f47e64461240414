// A throwaway PKI for the local control plane, made with the openssl command line: a CA, the API
// server's serving certificate, an admin client certificate in system:masters, and the
// service-account signing key pair. ECDSA P-256 keys keep generation fast.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function signedCertificate(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(['req', '-new', ...ecKey, '-keyout', key, '-out', csr, '-subj', subject]);
  // A random serial per certificate: -CAcreateserial shares one ca.srl file, which certificates
  // signed in parallel race on (seen as a failed signing).
  const serial = `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`;
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial,
    '-days', '30', '-out', cert, '-extfile', ext]);
  return { cert, key };
}

export async function createPki(dir: string): Promise<Pki> {
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  await openssl(['req', '-x509', ...ecKey, '-keyout', caKey, '-out', caCert, '-days', '30',
    '-subj', '/CN=sms-experiment-local-ca', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  const ca = { cert: caCert, key: caKey };
  const [serving, admin] = await Promise.all([
    signedCertificate(dir, 'apiserver', '/CN=kube-apiserver',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      'extendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,' +
      'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n', ca),
    signedCertificate(dir, 'admin', '/O=system:masters/CN=sms-experiment-admin',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      'extendedKeyUsage=clientAuth\n', ca),
  ]);
  const serviceAccountKey = path.join(dir, 'service-account.key');
  const serviceAccountPublicKey = path.join(dir, 'service-account.pub');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', serviceAccountKey]);
  await openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPublicKey]);
  return {
    caCert, caKey,
    servingCert: serving.cert, servingKey: serving.key,
    adminCert: admin.cert, adminKey: admin.key,
    serviceAccountKey, serviceAccountPublicKey,
  };
}
