import { serviceLoggerFromEnv } from '@orderflow/observability';
import { startGatewayApp } from './app.js';
import { loadGatewayConfig } from './config/gateway.config.js';

// the log first: a configuration error is reported in the format asked for
const { logger, problem } = serviceLoggerFromEnv('gateway', process.env, process);

async function main(): Promise<void> {
  if (problem) throw problem;
  const config = loadGatewayConfig(process.env);
  const { url, metricsUrl } = await startGatewayApp(config, { logger });
  logger.log(
    `listening on ${url}: Socket.IO /socket.io, API /api (docs /api/docs), /health/live, /health/ready${config.staticDir ? `, dashboard /` : ''}; metrics and status on ${metricsUrl} (/metrics, /status)`,
    { context: 'main', url, metricsUrl },
  );
}

main().catch((e: unknown) => {
  // configuration errors list every bad variable; anything else is printed whole
  logger.fatal(e instanceof Error ? e.message : String(e), { context: 'main' });
  process.exit(1);
});
