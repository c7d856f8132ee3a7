// Entry of dist/server.js: the language server over stdio (`node dist/server.js --stdio`).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { createNativeCacheService } from './cache/nativeCacheService.ts';
import { startServer } from './server.ts';

const connection = createConnection(ProposedFeatures.all);
startServer(connection, { createCache: createNativeCacheService });
connection.listen();
