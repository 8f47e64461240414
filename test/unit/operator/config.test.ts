import assert from 'node:assert/strict';
import { ConfigError, helpText, loadConfig, parseDuration, type OperatorConfig } from '../../../src/operator/config.ts';

function load(argv: string[], env: Record<string, string> = {}): OperatorConfig {
  const result = loadConfig({ argv, env, hostname: 'node-1', pid: 42 });
  assert.equal(result.kind, 'config');
  return result.config;
}

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig({ argv, env, hostname: 'node-1', pid: 42 });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('has defaults for everything', () => {
    assert.deepEqual(load([]), {
      namespaces: 'all',
      metrics: { bindAddress: '0.0.0.0', port: 8080 },
      logLevel: 'info',
      logFormat: 'json',
      leaderElection: {
        enabled: true,
        leaseName: 'sms-experiment-operator',
        leaseNamespace: 'default',
        identity: 'node-1_42',
        leaseDurationMs: 15_000,
        renewIntervalMs: 2_000,
        renewDeadlineMs: 10_000,
      },
      cacheSyncTimeoutMs: 120_000,
      concurrency: 4,
      resyncPeriodMs: 300_000,
      fieldManager: 'sms-experiment-operator',
      skipMonitoring: false,
      allowSharedHosts: false,
      kubeconfig: undefined,
      analysis: { prometheusUrl: undefined, intervalMs: 30_000 },
      monitoringDefaults: { labels: {}, annotations: {}, dashboardLabel: { key: 'grafana_dashboard', value: '1' } },
    } satisfies OperatorConfig);
  });

  it('reads every flag', () => {
    const config = load([
      '--namespaces=team-a, team-b,team-a',
      '--metrics-bind-address',
      '127.0.0.1',
      '--metrics-port',
      '9090',
      '--log-level',
      'debug',
      '--log-format',
      'text',
      '--no-leader-elect',
      '--leader-election-lease-name',
      'smsx.leader',
      '--leader-election-namespace',
      'operators',
      '--leader-election-identity',
      'replica-a',
      '--lease-duration',
      '20s',
      '--lease-renew-interval',
      '500ms',
      '--lease-renew-deadline',
      '12s',
      '--cache-sync-timeout',
      '30s',
      '--concurrency',
      '16',
      '--resync-period',
      '1h30m',
      '--field-manager',
      'smsx',
      '--skip-monitoring',
      '--kubeconfig',
      '/tmp/kubeconfig',
      '--prometheus-url',
      'http://prometheus.monitoring:9090',
      '--analysis-interval',
      '10s',
      '--monitoring-labels',
      'release=kube-prometheus-stack, team=sms',
      '--monitoring-annotations',
      '{"example.com/owner":"sms, team"}',
      '--dashboard-label',
      'example.com/dashboard=',
    ]);
    assert.deepEqual(config, {
      namespaces: ['team-a', 'team-b'],
      metrics: { bindAddress: '127.0.0.1', port: 9090 },
      logLevel: 'debug',
      logFormat: 'text',
      leaderElection: {
        enabled: false,
        leaseName: 'smsx.leader',
        leaseNamespace: 'operators',
        identity: 'replica-a',
        leaseDurationMs: 20_000,
        renewIntervalMs: 500,
        renewDeadlineMs: 12_000,
      },
      cacheSyncTimeoutMs: 30_000,
      concurrency: 16,
      resyncPeriodMs: 5_400_000,
      fieldManager: 'smsx',
      skipMonitoring: true,
      allowSharedHosts: false,
      kubeconfig: '/tmp/kubeconfig',
      analysis: { prometheusUrl: 'http://prometheus.monitoring:9090', intervalMs: 10_000 },
      monitoringDefaults: {
        labels: { release: 'kube-prometheus-stack', team: 'sms' },
        annotations: { 'example.com/owner': 'sms, team' },
        dashboardLabel: { key: 'example.com/dashboard', value: '' },
      },
    } satisfies OperatorConfig);
  });

  it('reads the environment, and a flag wins over its variable', () => {
    const config = load(['--concurrency', '2'], {
      SMSX_NAMESPACES: 'prod',
      SMSX_CONCURRENCY: '8',
      SMSX_SKIP_MONITORING: 'yes',
      SMSX_LEADER_ELECT: 'false',
      SMSX_METRICS_PORT: '0',
      POD_NAMESPACE: 'operator-system',
    });
    assert.deepEqual(config.namespaces, ['prod']);
    assert.equal(config.concurrency, 2);
    assert.equal(config.skipMonitoring, true);
    assert.equal(config.leaderElection.enabled, false);
    assert.equal(config.metrics.port, 0);
    assert.equal(config.leaderElection.leaseNamespace, 'operator-system', 'the Lease defaults to the pod namespace');
  });

  it('reads the monitoring settings from the environment too', () => {
    const config = load([], { SMSX_MONITORING_LABELS: 'release=monitoring', SMSX_DASHBOARD_LABEL: 'grafana_dashboard=sms-app' });
    assert.deepEqual(config.monitoringDefaults.labels, { release: 'monitoring' });
    assert.deepEqual(config.monitoringDefaults.dashboardLabel, { key: 'grafana_dashboard', value: 'sms-app' });
  });

  it('refuses monitoring labels the API server or the operator could not use, naming the flag and the key', () => {
    const expectations: Array<[string[], RegExp]> = [
      [['--monitoring-labels', 'release'], /--monitoring-labels: a monitoring label: "release" needs a value/],
      [['--monitoring-labels', 'release=not ok'], /--monitoring-labels: .*"not ok" is not a label value/],
      [['--monitoring-labels', 'Bad Key=1'], /--monitoring-labels: .*"Bad Key" is not a label key/],
      [['--monitoring-labels', 'experiments.sms-app.io/experiment=x'], /--monitoring-labels: .*which the operator sets itself/],
      [['--monitoring-annotations', 'app.kubernetes.io/name=x'], /--monitoring-annotations: .*which the operator sets itself/],
      [['--monitoring-annotations', '{"a":'], /--monitoring-annotations: .*not a JSON object/],
      [['--dashboard-label', 'a=1,b=2'], /--dashboard-label: the dashboard label must be exactly one key=value/],
    ];
    for (const [argv, pattern] of expectations) {
      const problems = problemsOf(argv);
      assert.ok(problems.some((problem) => pattern.test(problem)), `${argv.join(' ')}: expected ${pattern} in ${JSON.stringify(problems)}`);
    }
  });

  it('treats "all", "*" and an empty list as the whole cluster', () => {
    for (const value of ['all', '*', ' ']) {
      assert.equal(load([`--namespaces=${value}`]).namespaces, 'all');
    }
    assert.equal(load([], { SMSX_NAMESPACES: '' }).namespaces, 'all', 'an empty variable counts as unset');
  });

  it('names the flag or variable in each error, and reports all of them at once', () => {
    const problems = problemsOf(['--metrics-port', '70000', '--log-level', 'loud', '--log-format', 'pretty'], {
      SMSX_CONCURRENCY: 'many',
      SMSX_RESYNC_PERIOD: '5 minutes',
      SMSX_LEADER_ELECT: 'perhaps',
      SMSX_NAMESPACES: 'ok,Not_OK',
    });
    const expectations: Array<[string, RegExp]> = [
      ['--metrics-port', /70000.*0 to 65535/],
      ['--log-level', /"loud" is not one of trace/],
      ['--log-format', /"pretty" is not one of json, text/],
      ['SMSX_CONCURRENCY (environment)', /"many"/],
      ['SMSX_RESYNC_PERIOD (environment)', /not a duration/],
      ['SMSX_LEADER_ELECT (environment)', /not a boolean/],
      ['SMSX_NAMESPACES (environment)', /Not_OK/],
    ];
    assert.equal(problems.length, expectations.length, problems.join('\n'));
    for (const [source, pattern] of expectations) {
      const problem = problems.find((p) => p.startsWith(`${source}:`));
      assert.ok(problem, `no problem reported for ${source}: ${problems.join('\n')}`);
      assert.match(problem, pattern);
    }
  });

  it('rejects unknown flags and stray arguments with the parser message', () => {
    assert.match(problemsOf(['--metrics-prot', '1'])[0] ?? '', /metrics-prot/);
    assert.equal(problemsOf(['extra']).length, 1);
  });

  it('checks the lease timings against each other', () => {
    const [problem] = problemsOf(['--lease-duration', '3s', '--lease-renew-interval', '2s']);
    assert.match(problem ?? '', /^--lease-duration: must be at least twice the renew interval/);
    assert.match(problemsOf(['--lease-renew-interval', '0'])[0] ?? '', /^--lease-renew-interval: must be above 0/);
    for (const deadline of ['15s', '20s', '2s', '1s']) {
      assert.match(
        problemsOf(['--lease-duration', '15s', '--lease-renew-interval', '2s', '--lease-renew-deadline', deadline])[0] ?? '',
        /^--lease-renew-deadline: must be above the renew interval and below the lease duration/,
        deadline,
      );
    }
    assert.match(problemsOf([], { SMSX_LEASE_RENEW_DEADLINE: '1m' })[0] ?? '', /^SMSX_LEASE_RENEW_DEADLINE \(environment\): must be above/);
  });

  it('derives the renew deadline from the lease duration unless given, and bounds the cache sync timeout', () => {
    assert.equal(load(['--lease-duration', '3s', '--lease-renew-interval', '500ms']).leaderElection.renewDeadlineMs, 2_000);
    assert.equal(load(['--lease-duration', '3s', '--lease-renew-interval', '500ms', '--lease-renew-deadline', '2500ms']).leaderElection.renewDeadlineMs, 2_500);
    assert.equal(load([], { SMSX_CACHE_SYNC_TIMEOUT: '5s' }).cacheSyncTimeoutMs, 5_000);
    assert.match(problemsOf(['--cache-sync-timeout', '0'])[0] ?? '', /^--cache-sync-timeout: must be above 0/);
    assert.match(problemsOf(['--cache-sync-timeout', 'soon'])[0] ?? '', /^--cache-sync-timeout: the cache sync timeout "soon" is not a duration/);
  });

  it('takes only an http(s) URL for Prometheus, and an analysis interval of at least 1s', () => {
    assert.match(problemsOf(['--prometheus-url', 'ftp://prometheus'])[0] ?? '', /^--prometheus-url: the Prometheus URL must be an http:\/\/ or https:\/\/ URL/);
    assert.match(problemsOf([], { SMSX_PROMETHEUS_URL: 'not a url' })[0] ?? '', /^SMSX_PROMETHEUS_URL \(environment\): the Prometheus URL must be/);
    assert.match(problemsOf(['--analysis-interval', '500ms'])[0] ?? '', /^--analysis-interval: must be at least 1s/);
  });

  it('bounds the field manager and the lease name by what the API server accepts', () => {
    assert.match(problemsOf(['--field-manager', 'x'.repeat(129)])[0] ?? '', /^--field-manager: .*128/);
    assert.match(problemsOf(['--leader-election-lease-name', 'Bad_Name'])[0] ?? '', /^--leader-election-lease-name: .*DNS subdomain/);
  });

  it('returns the help text for --help and -h, whatever else is given', () => {
    for (const argv of [['--help'], ['-h', '--concurrency', '2']]) {
      const result = loadConfig({ argv, env: {}, hostname: 'h', pid: 1 });
      assert.equal(result.kind, 'help');
    }
    const text = helpText();
    for (const flag of ['--namespaces', '--metrics-port', '--log-level', '--log-format', '--leader-elect', '--concurrency', '--resync-period', '--field-manager', '--skip-monitoring', '--kubeconfig', '--lease-renew-deadline', '--cache-sync-timeout']) {
      assert.ok(text.includes(flag), `help mentions ${flag}`);
    }
    assert.ok(text.includes('SMSX_CONCURRENCY'));
  });

  describe('parseDuration', () => {
    it('accepts Go-style durations', () => {
      assert.equal(parseDuration('500ms'), 500);
      assert.equal(parseDuration('15s'), 15_000);
      assert.equal(parseDuration('1.5s'), 1_500);
      assert.equal(parseDuration('5m'), 300_000);
      assert.equal(parseDuration('1h30m'), 5_400_000);
      assert.equal(parseDuration('0'), 0);
    });

    it('rejects everything else', () => {
      for (const text of ['', '15', 's', '5 m', '5d', '-1s', '1h 30m', '1sx']) {
        assert.equal(parseDuration(text), undefined, text);
      }
    });
  });
});
