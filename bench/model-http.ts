// HTTP /predict of the real model service (node src/model/main.ts, a child process) on loopback,
// loaded by autocannon from this process: requests per second and latency percentiles per version.
//   node bench/model-http.ts [seconds=10] [connections=32]
// Client and server share the machine's cores, so requests/s is a floor for the service alone; the
// server's CPU time per request (from /proc, Linux) is the figure that other load disturbs least.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { readDataset } from '../src/model/dataset.ts';
import { MODEL_VERSIONS } from '../src/model/presets.ts';
import { startModelService, trainedModelsDir, trainingDataFile } from '../test/support/model-service.ts';

const seconds = Number(process.argv[2] ?? '10');
const connections = Number(process.argv[3] ?? '32');
const modelsDir = await trainedModelsDir();
// A rotation of real messages, so the tokenizer and stem cache see varied text.
const { messages } = await readDataset(trainingDataFile().file);
const requests = messages.slice(0, 200).map((message) => ({ method: 'POST' as const, path: '/predict', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: message.text }) }));

process.stdout.write(`\nautocannon: ${connections} connections, ${seconds} s per version, ${requests.length} distinct messages in rotation\n\n`);
/** utime + stime of a process in milliseconds (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

process.stdout.write('| Version | Requests/s (mean) | p50 | p90 | p99 | max | Server CPU per request | Non-2xx | Errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
for (const version of MODEL_VERSIONS) {
  const service = await startModelService({ modelsDir, version, env: { LOG_LEVEL: 'warn' } });
  try {
    // Warm-up: JIT and the stem cache, as in a pod that has served a while.
    await autocannon({ url: service.url, connections, duration: 2, requests });
    const cpuBefore = cpuMs(service.pid);
    const result = await autocannon({ url: service.url, connections, duration: seconds, requests });
    const cpuPerRequestUs = ((cpuMs(service.pid) - cpuBefore) * 1000) / result.requests.total;
    const { latency } = result;
    process.stdout.write(
      `| ${version} | ${Math.round(result.requests.mean).toLocaleString('en-US')} | ${latency.p50} ms | ${latency.p90} ms | ${latency.p99} ms | ${latency.max} ms | ${cpuPerRequestUs.toFixed(0)} µs | ${result.non2xx} | ${result.errors} |\n`,
    );
  } finally {
    await service.stop();
  }
}
