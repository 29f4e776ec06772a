/**
 * `recsys serve --model DIR`: the HTTP service (src/serve/app.ts) on fastify — recommendations, similar items,
 * durable events applied at once, hot model reload, health, Prometheus metrics and `/openapi.json`. Logs are
 * pino JSON lines on stderr. SIGINT / SIGTERM stop it gracefully: no new requests, those in flight finish,
 * the event log is closed (every acknowledged event is already on disk).
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { getKernels } from '../../linalg/index.js';
import '../../models/index.js';
import { buildService } from '../../serve/app.js';
import { ProgressBar } from '../progress.js';
import { DEFAULT_MIN_COMMIT_INTERVAL_MS } from '../../serve/event-log.js';
import { annOption, type AnnFlags } from './pipeline.js';

interface ServeFlags extends AnnFlags {
  model: string;
  ranker?: string;
  store?: string | boolean;
  candidates: string;
  popularity?: string;
  host: string;
  port: string;
  data: string;
  commitInterval: string;
  logLevel: string;
  results: string;
}

/** A positive integer flag. */
function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer (got ${JSON.stringify(text)})`);
  return v;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Registers `serve`. */
export function register(program: Command): void {
  program
    .command('serve')
    .description('serve a model over HTTP: recommendations, similar items, durable events (fold-in at once), reload, metrics, /openapi.json')
    .requiredOption('--model <dir>', 'model directory written by `recsys train` (the retrieval model)')
    .option('--ranker <dir>', 're-rank the candidates with this model\'s score (e.g. mlp-ranker; ids matched by external id)')
    .option('--store [location]', 'feature store for item details: a DuckDB file (default DIR.features.duckdb, built by `recsys pipeline --store --build-store`) or postgres://…')
    .option('--ann [index]', 'retrieve through an approximate index next to the model, built at start when missing: ivf (DIR.ivf; the default with the native kernels) or hnsw (DIR.hnsw; the default without them)')
    .option('--nprobe <n>', 'with --ann ivf: lists searched per query (default about 3·√lists)')
    .option('--ivf-lists <n>', 'with --ann ivf, when the index is built at start: lists (default about 3.2·√items)')
    .option('--ef <n>', 'with --ann hnsw: HNSW ef at search time (default 128)')
    .option('--hnsw-mips <reduction>', 'with --ann hnsw, when the index is built at start: augmented (default) or ip (faster on trained factors; docs/pipeline.md)')
    .option('--hnsw-quant <type>', 'with --ann hnsw, when the index is built at start: f32 (default below 500,000 items) or f16 (half the memory; the default from 500,000)')
    .option('--candidates <n>', 'candidates retrieved per request before ranking', '100')
    .option('--popularity <n>', 'also merge this many popular items into the candidates (source "popularity")')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--data <dir|url>', 'the durable event log: a directory (created when missing), or a postgres:// URL of an event table that replicas share; replayed on start', 'serve-data')
    .option('--commit-interval <ms>', 'file event log: least time between two group commits under load (0: commit each arrival at once; docs/serving.md)', String(DEFAULT_MIN_COMMIT_INTERVAL_MS))
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, 'info')
    .option('--results <dir>', 'experiment results (JSON) for the dashboard at / (see docs/dashboard.md)', 'out')
    .action(async (flags: ServeFlags) => {
      const port = Number(flags.port);
      if (flags.port.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer in 0..65535 (got ${JSON.stringify(flags.port)})`);
      if (!LEVELS.includes(flags.logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')} (got ${JSON.stringify(flags.logLevel)})`);
      const commitInterval = Number(flags.commitInterval);
      if (flags.commitInterval.trim() === '' || !Number.isFinite(commitInterval) || commitInterval < 0 || commitInterval > 1000) throw new UsageError(`--commit-interval must be a number of milliseconds in 0..1000 (got ${JSON.stringify(flags.commitInterval)})`);
      let service;
      try {
        const ann = annOption(flags, false);
        const pipeline = {
          ranker: flags.ranker,
          store: flags.store === undefined ? undefined : typeof flags.store === 'string' ? flags.store : (true as const),
          ann,
          candidates: positive('candidates', flags.candidates),
          popularity: positive('popularity', flags.popularity),
          log: (line: string) => void process.stderr.write(`recsys serve: ${line}\n`),
        };
        const replay = new ProgressBar('recsys serve: replaying the event log');
        service = await buildService({ model: flags.model, dataDir: flags.data, commitIntervalMs: commitInterval, pipeline, replayProgress: (p) => replay.update(p), logger: { level: flags.logLevel, stream: process.stderr }, dashboard: { resultsDir: flags.results } });
      } catch (e) {
        await (await getKernels()).close();
        throw new UsageError(`cannot start the service: ${(e as Error).message}`);
      }
      const stopped = new Promise<void>((resolveStop) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) return;
          stopping = true;
          service.app.log.info({ signal }, 'stopping');
          void service.close().finally(resolveStop);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      try {
        await service.app.listen({ host: flags.host, port });
      } catch (e) {
        await service.close();
        await (await getKernels()).close();
        throw new UsageError(`cannot listen on ${flags.host}:${port}: ${(e as Error).message}`);
      }
      await stopped;
      await (await getKernels()).close();
    });
}
