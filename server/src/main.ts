// Entry of dist/server.js: the language server over stdio (`node dist/server.js --stdio`).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server.ts';

const connection = createConnection(ProposedFeatures.all);
startServer(connection);
connection.listen();
