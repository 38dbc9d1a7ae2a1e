import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PdmError } from '../lib/errors';
import type { Reporter } from './reporter';
import { kafkaMajor, loadStackSettings, type StackSettings } from './settings';

/**
 * Where the stack's servers come from: Kafka and Apicurio Registry from Maven Central (through
 * Maven, fetched once into the cache folder), Postgres and Prometheus from Debian's packages.
 */

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
// 3.x resolves an artifact's parent POMs before unpacking it, and Apicurio's parent POM is not on
// Maven Central; 2.8 unpacks the zip without reading descriptors.
const UNPACK_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8';

export function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function requireJava(): void {
  if (!which('java')) {
    throw new PdmError('STACK_PREREQUISITE', 'Kafka and the schema registry run on Java 17 or later, and `java` is not on PATH (Debian: apt-get install openjdk-17-jre-headless)');
  }
  if (!which('mvn')) {
    throw new PdmError('STACK_PREREQUISITE', 'Kafka and the schema registry are fetched from Maven Central with Maven, and `mvn` is not on PATH (Debian: apt-get install maven)');
  }
}

/** Runs Maven, showing how many files it has downloaded so far. */
async function runMaven(args: string[], cwd: string, what: string, reporter: Reporter): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mvn', ['-B', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let downloaded = 0;
    const lines: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) lines.push(line);
        if (lines.length > 60) lines.shift();
        if (line.includes('Downloaded from')) {
          downloaded += 1;
          reporter.progress(`  fetching ${what} from Maven Central: ${downloaded} files`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      reporter.done();
      if (code === 0) resolve();
      else reject(new PdmError('STACK_FETCH_FAILED', `fetching ${what} with Maven failed (exit ${code}):\n${lines.slice(-25).join('\n')}`));
    });
  });
}

function kafkaPom(settings: StackSettings): string {
  // Kafka 3.x logs through SLF4J 1 + reload4j; 4.x moved to Log4j 2 but still pins slf4j-api
  // 1.7, so the binding is Log4j's SLF4J 1 one (the SLF4J 2 binding would leave it silent).
  const logging =
    kafkaMajor(settings) >= 4
      ? `<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>`
      : `<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.pdmstream.stack</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>${settings.PDM_KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${settings.PDM_KAFKA_VERSION}</version></dependency>
    ${logging}
  </dependencies>
</project>
`;
}

/** The class path folder of the Kafka broker, fetched on first use. */
export async function ensureKafka(settings: StackSettings, reporter: Reporter): Promise<string> {
  const pom = kafkaPom(settings);
  // The folder is named by the POM's digest too, so a change of dependencies fetches afresh.
  const digest = createHash('sha256').update(pom).digest('hex').slice(0, 8);
  const home = path.join(settings.PDM_CACHE_DIR, `kafka-${settings.PDM_KAFKA_VERSION}-${digest}`);
  const libs = path.join(home, 'libs');
  if (fs.existsSync(path.join(home, '.complete'))) return libs;
  requireJava();
  reporter.info(`Fetching Apache Kafka ${settings.PDM_KAFKA_VERSION} from Maven Central (first time only) into ${home}`);
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'pom.xml'), pom);
  await runMaven([`${DEPENDENCY_PLUGIN}:copy-dependencies`, `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], home, `Kafka ${settings.PDM_KAFKA_VERSION}`, reporter);
  fs.writeFileSync(path.join(home, '.complete'), new Date().toISOString());
  return libs;
}

function findRunnerJar(dir: string): string | undefined {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && (entry.name.endsWith('-runner.jar') || entry.name === 'quarkus-run.jar')) return full;
    if (entry.isDirectory() && entry.name !== 'lib') {
      const found = findRunnerJar(full);
      if (found) return found;
    }
  }
  return undefined;
}

/** The runnable jar of Apicurio Registry, fetched and unpacked on first use. */
export async function ensureApicurio(settings: StackSettings, reporter: Reporter): Promise<string> {
  const home = path.join(settings.PDM_CACHE_DIR, `apicurio-registry-${settings.PDM_APICURIO_VERSION}`);
  if (fs.existsSync(path.join(home, '.complete'))) {
    const jar = findRunnerJar(home);
    if (jar) return jar;
  }
  requireJava();
  reporter.info(`Fetching Apicurio Registry ${settings.PDM_APICURIO_VERSION} from Maven Central (first time only) into ${home}`);
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  await runMaven(
    [`${UNPACK_PLUGIN}:unpack`, `-Dartifact=io.apicurio:apicurio-registry-app:${settings.PDM_APICURIO_VERSION}:zip:all`, `-DoutputDirectory=${home}`],
    home,
    `Apicurio Registry ${settings.PDM_APICURIO_VERSION}`,
    reporter,
  );
  const jar = findRunnerJar(home);
  if (!jar) throw new PdmError('STACK_FETCH_FAILED', `Apicurio Registry ${settings.PDM_APICURIO_VERSION} unpacked into ${home} but holds no runner jar`);
  fs.writeFileSync(path.join(home, '.complete'), new Date().toISOString());
  return jar;
}

let aptUpdated = false;

/**
 * Installs Debian packages when a binary is missing. Only as root with apt-get (as on the
 * development and CI machines); anywhere else it says which package to install. Daemons that
 * packages would start (a Postgres cluster on 5432, Prometheus on 9090) are kept from starting.
 */
export function ensureDebianPackages(packages: string[], reporter: Reporter): void {
  if (packages.length === 0) return;
  const canInstall = process.getuid?.() === 0 && which('apt-get') !== undefined;
  if (!canInstall) {
    throw new PdmError('STACK_PREREQUISITE', `the local stack needs the Debian package(s) ${packages.join(', ')}: install them (sudo apt-get install ${packages.join(' ')}) and run again`);
  }
  reporter.info(`Installing ${packages.join(', ')} from Debian's packages (first time only)`);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy) fs.writeFileSync(policy, '#!/bin/sh\n# written by pdmctl while installing packages: start no daemons\nexit 101\n', { mode: 0o755 });
  fs.mkdirSync('/etc/postgresql-common', { recursive: true });
  if (!fs.existsSync('/etc/postgresql-common/createcluster.conf')) {
    fs.writeFileSync('/etc/postgresql-common/createcluster.conf', 'create_main_cluster = false\n');
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      const update = spawnSync('apt-get', ['update', '-qq'], { env, encoding: 'utf8' });
      if (update.status !== 0) throw new PdmError('STACK_PREREQUISITE', `apt-get update failed:\n${update.stderr}`);
      aptUpdated = true;
    }
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, encoding: 'utf8' });
    if (install.status !== 0) throw new PdmError('STACK_PREREQUISITE', `apt-get install ${packages.join(' ')} failed:\n${install.stderr.slice(-2000)}`);
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
}

/** The folder with initdb, postgres and pg_basebackup: PDM_PG_BINDIR, else Debian's newest. */
export function findPostgresBinDir(): string | undefined {
  const candidates: string[] = [];
  const { PDM_PG_BINDIR } = loadStackSettings();
  if (PDM_PG_BINDIR) candidates.push(PDM_PG_BINDIR);
  try {
    const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    /* not Debian's layout */
  }
  const initdb = which('initdb');
  if (initdb) candidates.push(path.dirname(fs.realpathSync(initdb)));
  return candidates.find((dir) => ['initdb', 'postgres', 'pg_basebackup'].every((bin) => fs.existsSync(path.join(dir, bin))));
}
