import { Logger } from '@nestjs/common';
import { startGatewayApp } from './app.js';
import { loadGatewayConfig } from './config/gateway.config.js';

async function main(): Promise<void> {
  const config = loadGatewayConfig(process.env);
  const { url } = await startGatewayApp(config);
  new Logger('gateway').log(`listening on ${url}: Socket.IO /socket.io, API /api (docs /api/docs), /health/live, /health/ready, /metrics${config.staticDir ? `, dashboard /` : ''}`);
}

main().catch((e: unknown) => {
  // configuration errors list every bad variable; anything else is printed whole
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
