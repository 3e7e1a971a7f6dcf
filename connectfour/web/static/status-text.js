// What the game page says, in words, decided from its state alone: the status
// line (who you are, whose turn), the presence line, the result, the rematch,
// the offers of a draw and the takebacks, the first move's countdown, the
// connection banner and the board's label for screen readers.

import { colourName } from "./board.js";
import { isOver, opponentOf, outcome } from "./game-state.js";

/** News about the opponent that is shown for a moment, then fades. */
export const PASSING_NEWS = ["Opponent joined", "Opponent found", "Opponent reconnected"];
// When the server's game does not continue the moves this page showed.
export const LOST_MOVES =
  "The server lost the latest moves of this game (a failover); play goes on from the moves it kept.";
// Why a page has no game, or no longer its own.
export const NO_SUCH_GAME = "There is no such game. Check the link, or start a new game.";
export const HOST_LEFT = "This game is over: its host left before anyone joined. Start a new game, or join one in the lobby.";
export const NOT_YOUR_SEAT = "This link belongs to the players of this game. Ask them for the watch link.";
export const REPLACED = "This game is open in another tab or device.";
export const GAME_ENDED = "This game has ended.";
export const ABORTED = "Game aborted: the first move did not come in time.";
// The opponent's answer to this page's offer of a draw, or request for a takeback.
export const DRAW_DECLINED = "Your opponent declined the draw.";
export const TAKEBACK_DECLINED = "Your opponent declined the takeback.";

export function roleText(s) {
  switch (s.you) {
    case "red":
      return "You are Red";
    case "yellow":
      return "You are Yellow";
    case "both":
      return "Playing on this device";
    case "spectator":
      return "Spectator";
    default:
      return "";
  }
}

export function turnText(s) {
  switch (s.phase) {
    case "connecting":
      return s.matching ? "Finding an opponent…" : "Connecting…";
    case "reconnecting":
      return "Reconnecting…";
    case "failed":
      return "No game";
    case "replaced":
      return "Open in another tab";
    case "ended":
      if (!s.hasBoard) return "Game over";
      break;
    default:
  }
  switch (s.status) {
    case "waiting":
      return s.match ? "Finding an opponent…" : "Waiting for an opponent…";
    case "playing":
      if (!s.turn) return "";
      if (s.computer !== null && s.turn === s.computer) return "The computer is thinking…";
      if (s.you === "red" || s.you === "yellow") {
        return s.turn === s.you ? "Your turn" : "Opponent's turn";
      }
      return `${colourName(s.turn)} to play`;
    case "won": {
      const winner = colourName(s.winner);
      if (s.reason === "time") {
        if (s.you === s.winner) return "You won on time";
        return s.you === "red" || s.you === "yellow" ? "You lost on time" : `${winner} wins on time`;
      }
      if (s.you === s.winner) return "You win!";
      if (s.you === "red" || s.you === "yellow") {
        if (s.reason === "resign") return "You resigned";
        return `You lose: ${winner} wins`;
      }
      return `${winner} wins!`;
    }
    case "draw":
      return s.reason === "agreement" ? "Draw by agreement" : "Draw: the board is full";
    case "abandoned":
      return s.reason === "aborted" ? "Game aborted" : "Game abandoned";
    default:
      return "";
  }
}

/** Who is away and who watches, under the status line; "" once the game is over. */
export function presenceText(s) {
  if (isOver(s)) return ""; // who is connected means nothing once the game is over
  const parts = [];
  if (s.you === "spectator") {
    for (const player of ["red", "yellow"]) {
      if (s[player] === "disconnected") parts.push(`${colourName(player)} disconnected`);
      else if (s[player] === "gone") parts.push(`${colourName(player)} left`);
    }
  } else if (s.opponentNote) {
    parts.push(s.opponentNote);
  }
  if (s.spectators > 0) parts.push(`${s.spectators} watching`);
  return parts.join(" · ");
}

/** What to say about the opponent's seat, given what it was before (or null); `match`: found by a quick match. */
export function seatNote(seat, before, match) {
  switch (seat) {
    case "connected":
      if (before === "empty") return match ? "Opponent found" : "Opponent joined";
      if (before === "disconnected" || before === "gone") return "Opponent reconnected";
      return "";
    case "disconnected":
      return "Opponent disconnected";
    case "gone":
      return "Opponent left";
    default:
      return "";
  }
}

/** Where the rematch stands, in a sentence; "" when nobody offered. */
export function rematchText(s) {
  if (s.you === "red" || s.you === "yellow") {
    const mine = s.offers.has(s.you);
    const theirs = s.offers.has(opponentOf(s.you));
    if (mine) return "Rematch offered — waiting for your opponent";
    if (theirs) return "Your opponent wants a rematch";
    return "";
  }
  if (s.you === "spectator") {
    return [...s.offers].map((player) => `${colourName(player)} wants a rematch`).join(" · ");
  }
  return "";
}

/** The news that a rematch began, for a player (`you`: their colour) or anyone else. */
export function rematchNews(you) {
  return you === "red" || you === "yellow"
    ? `Rematch! Colours swapped: you are ${colourName(you)} now.`
    : "Rematch! A new game has started.";
}

/** How the game ended, in a sentence; "" while it goes on. */
export function resultText(s) {
  const winner = colourName(s.winner);
  const loser = colourName(opponentOf(s.winner));
  switch (s.status) {
    case "won":
      if (s.reason === "resign") return `${loser} resigned — ${winner} wins`;
      if (s.reason === "claim") return `${winner} wins: opponent left`;
      if (s.reason === "time") return `${winner} wins on time`;
      return `${winner} wins!`;
    case "draw":
      return s.reason === "agreement" ? "Draw by agreement." : "Draw! The board is full.";
    case "abandoned":
      return s.reason === "aborted" ? ABORTED : "The game was abandoned.";
    default:
      return "";
  }
}

/** The result as the page's message (a loss plainer than a win), or null while the game goes on. */
export function resultMessage(s) {
  const text = resultText(s);
  if (!text) return null;
  return { text, kind: "result", code: s.status === "won" ? "win" : s.status, outcome: outcome(s) };
}

/** The question before resigning: on a shared device, for the side to move. */
export function resignQuestion(s) {
  return s.you === "both" && s.turn
    ? `Resign for ${colourName(s.turn)}? ${colourName(opponentOf(s.turn))} wins.`
    : "Resign this game? Your opponent wins.";
}

/** The opponent's offer of a draw, in words (a spectator's: whose); "" when none stands for this page to see. */
export function drawOfferText(s) {
  if (s.drawOffer === null || s.drawOffer === s.you) return "";
  return s.you === "red" || s.you === "yellow" ? "Your opponent offers a draw" : `${colourName(s.drawOffer)} offers a draw`;
}

/** The opponent's request to take a move back, in words (a spectator's: whose); "" when none. */
export function takebackText(s) {
  if (s.takebackRequest === null || s.takebackRequest === s.you) return "";
  return s.you === "red" || s.you === "yellow"
    ? "Your opponent asks to take back their last move"
    : `${colourName(s.takebackRequest)} asks to take back a move`;
}

/** The news of a takeback: how many moves went. */
export function takebackNews(count) {
  return count === 1 ? "A move was taken back." : `${count} moves were taken back.`;
}

/** The countdown to a side's first move (`player`, `seconds`): "12 s to make the first move"; "" for the computer's. */
export function firstMoveText(s, { player, seconds }) {
  if (s.computer === player) return "";
  const first = s.moves.length === 0 ? "the first move" : null;
  if (s.you === player || s.you === "both") return `${seconds} s to make ${first ?? "your first move"}`;
  if (s.you === "red" || s.you === "yellow") return `Your opponent has ${seconds} s to make ${first ?? "their first move"}`;
  return `${colourName(player)} has ${seconds} s to make ${first ?? "the first move"}`;
}

/** The countdown while the opponent is away. */
export function claimText(seconds) {
  return `Opponent away — you can claim the win in ${seconds} s`;
}

/** The connection banner's text while the connection is down (`now`: ms since the epoch). */
export function bannerText(s, now = Date.now()) {
  let lead = s.everSeated ? "Reconnecting…" : "Cannot reach the server. Reconnecting…";
  if (s.restarting) lead = "Server restarting, reconnecting…";
  let detail;
  if (s.retryAt !== null) {
    const seconds = Math.max(1, Math.ceil((s.retryAt - now) / 1000));
    detail = `attempt ${s.attempt}, retrying in ${seconds} s`;
  } else {
    detail = `attempt ${s.attempt}`;
  }
  return `${lead} ${detail}`;
}

/** The landing page's line about its connection: down, or refused; "" when all is well. */
export function lobbyStatusText(s) {
  if (s.lobbyDown) return s.restarting ? "Server restarting, reconnecting…" : "Cannot reach the server. Reconnecting…";
  return s.lobbyError ?? "";
}

/** The board's name for screen readers: how many moves, or which one the review shows, and the turn. */
export function boardLabel(s, turn) {
  const played = s.moves.length === 1 ? "1 move played" : `${s.moves.length} moves played`;
  if (s.reviewPly === null) return `Board, ${played}. ${turn}`;
  return `Board after move ${s.reviewPly} of ${s.moves.length}. ${turn}`;
}

/** The tab's title: the turn while in a game. */
export function pageTitle(s, turn) {
  return (s.phase === "seated" || s.phase === "reconnecting") && turn ? `${turn} · Connect Four` : "Connect Four";
}

/** One line of the move list: "Red, column 4". */
export function moveText(ply, column) {
  return `${colourName(ply % 2 === 0 ? "red" : "yellow")}, column ${column + 1}`;
}

/** "You are Red", "Your turn" -> "You are Red. Your turn." */
export function sentence(...parts) {
  return parts
    .filter(Boolean)
    .map((part) => (/[.!?…]$/.test(part) ? part : `${part}.`))
    .join(" ");
}
