// Finds the artifact: the directory first; if that does not exist and MODEL_URL is set, the same
// two files over HTTP. A missing artifact is waited for (it may still be copied to the shared
// directory); a present but broken one fails for good. Either way the problem is logged once.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ArtifactError, loadArtifact, METADATA_FILE, MODEL_FILE, parseArtifact, type LoadedModel } from './artifact.ts';
import type { ModelState } from './model-state.ts';

export class ArtifactMissingError extends ArtifactError {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactMissingError';
  }
}

const MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 30_000;

async function download(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    throw new ArtifactMissingError(`cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (response.status === 404) throw new ArtifactMissingError(`${url} answered 404 Not Found`);
  if (!response.ok) throw new ArtifactMissingError(`${url} answered ${response.status} ${response.statusText}`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_DOWNLOAD_BYTES) throw new ArtifactError(`${url} is ${declared} bytes, more than the ${MAX_DOWNLOAD_BYTES} allowed`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_DOWNLOAD_BYTES) throw new ArtifactError(`${url} is more than the ${MAX_DOWNLOAD_BYTES} bytes allowed`);
  return bytes;
}

export async function fetchArtifact(baseUrl: string, artifact: string): Promise<LoadedModel> {
  const base = `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(artifact)}`;
  const metadata = await download(`${base}/${METADATA_FILE}`);
  const model = await download(`${base}/${MODEL_FILE}`);
  return parseArtifact(model, metadata.toString('utf8'), base);
}

async function directoryExists(directory: string): Promise<boolean> {
  return stat(directory).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

export interface LoaderOptions {
  artifact: string;
  artifactDirectory: string;
  modelUrl: string | undefined;
  logger: Logger;
  setState: (state: ModelState) => void;
  /** How long to wait before looking for a missing artifact again. */
  retryMs?: number;
  /** Stops the retries (on shutdown). */
  signal?: AbortSignal;
}

export async function loadOnce(options: Pick<LoaderOptions, 'artifact' | 'artifactDirectory' | 'modelUrl'>): Promise<LoadedModel & { from: string }> {
  const { artifact, artifactDirectory, modelUrl } = options;
  if (await directoryExists(artifactDirectory)) return { ...(await loadArtifact(artifactDirectory)), from: artifactDirectory };
  if (modelUrl === undefined) throw new ArtifactMissingError(`artifact directory ${path.resolve(artifactDirectory)} does not exist and MODEL_URL is not set`);
  return { ...(await fetchArtifact(modelUrl, artifact)), from: modelUrl };
}

/** Loads the model, publishing each state change; resolves when it is ready, failed or aborted. */
export async function loadModel(options: LoaderOptions): Promise<void> {
  const { logger, setState, retryMs = 5_000, signal } = options;
  let reported = '';
  for (;;) {
    try {
      const loaded = await loadOnce(options);
      if (signal?.aborted) return;
      setState({ status: 'ready', loaded });
      logger.info(
        { modelVersion: loaded.metadata.modelVersion, from: loaded.from, vocabulary: loaded.metadata.model.vocabulary, created: loaded.metadata.created },
        'Loaded model',
      );
      return;
    } catch (error) {
      if (!(error instanceof ArtifactError)) throw error;
      if (!(error instanceof ArtifactMissingError)) {
        setState({ status: 'failed', problem: error.message });
        logger.error({ problem: error.message }, `Refused model artifact: ${error.message}`);
        return;
      }
      setState({ status: 'loading', waitingFor: error.message });
      if (error.message !== reported) {
        logger.warn({ problem: error.message, retrySeconds: retryMs / 1000 }, `Found no model artifact yet: ${error.message}`);
        reported = error.message;
      }
    }
    if (signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
  }
}
