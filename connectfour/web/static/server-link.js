// The game page's one connection to the server, shared by every part that
// sends (commands, starting a game) or stops it (a game that cannot go on).
// What it does with what arrives is wired in app.js (`connection.listen`).

import { Connection } from "./connection.js";

export const connection = new Connection();
