// The WebSocket connection to the game server, and reconnecting it.
//
// The page gives a `hello` function: it returns the first frame of every
// connection (`init` the first time, `resume` or `init` with a watch key after
// a drop). When the socket closes without the page asking for it, the
// connection tries again by itself with exponential backoff and jitter, for
// as long as it takes, and tells the page what it is doing (`onDown`,
// `onRetry`). Close code 4001 (the seat was taken over by another tab) ends it
// for good (`onEnd`).

export const SUBPROTOCOL = "connectfour.v1";

/** The seat was taken over by a newer connection: never reconnect after it. */
export const CLOSE_REPLACED = 4001;

/** Backoff: the first retry after about BASE ms, doubling up to MAX ms, each ±50%. */
export const BACKOFF_BASE = 500;
export const BACKOFF_MAX = 8000;
/** A socket still not open after this long is given up and tried again. */
const CONNECT_TIMEOUT = 10000;

/** The WebSocket endpoint on the host that served this page. */
export function socketUrl(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws`;
}

/** How long to wait before retry number `attempt` (1, 2, ...), in ms. */
export function backoff(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random()));
}

export class Connection {
  /**
   * @param {object} handlers
   * @param {() => object|null} handlers.hello  the first frame of each connection
   * @param {(event: object) => void} handlers.onEvent  one parsed server event
   * @param {(info: {protocol: string, attempt: number}) => void} [handlers.onOpen]
   * @param {(info: {code: number, reason: string, attempt: number, delay: number}) => void} [handlers.onDown]
   *   the socket closed unexpectedly; retry `attempt` comes in `delay` ms
   * @param {(info: {attempt: number}) => void} [handlers.onRetry]  retry `attempt` is connecting now
   * @param {(info: {code: number, reason: string}) => void} [handlers.onEnd]
   *   closed for good by the server (4001): no retry
   *
   * The handlers may also be given later, with `listen`, before `start`.
   */
  constructor(handlers = {}) {
    this.listen(handlers);
    this.socket = null;
    this.running = false; // the page wants a connection
    this.attempt = 0; // retries since the last connection that worked
    this.retryAt = null; // when the next retry starts (ms since the epoch), or null
    this.timer = null;
    this.leftPage = false;
    // Leaving or reloading the page closes the socket on purpose; coming
    // back to it from the back/forward cache opens it again.
    window.addEventListener("pagehide", () => {
      if (this.running) {
        this.leftPage = true;
        this.stop();
      }
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted && this.leftPage) {
        this.leftPage = false;
        this.start();
      }
    });
    // Back online, or back on the tab: no need to sit out the backoff.
    window.addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.retryNow();
    });
  }

  /**
   * Who hears what the connection does: the constructor's handlers. The page
   * makes its one connection first and gives it the handlers once the parts
   * they call are there.
   */
  listen({ hello = () => null, onEvent = () => {}, onOpen = () => {}, onDown = () => {}, onRetry = () => {}, onEnd = () => {} }) {
    this.hello = hello;
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onDown = onDown;
    this.onRetry = onRetry;
    this.onEnd = onEnd;
  }

  /** Connect, and keep connecting after unexpected closes until `stop()`. */
  start() {
    this.running = true;
    this.attempt = 0;
    this.connect();
  }

  /** Close on purpose: no retries, no callbacks. */
  stop() {
    this.running = false;
    this.cancelRetry();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState < WebSocket.CLOSING) socket.close(1000, "bye");
  }

  /** If a retry is waiting, start it now. */
  retryNow() {
    if (!this.running || this.timer === null) return;
    this.cancelRetry();
    this.onRetry({ attempt: this.attempt });
    this.connect();
  }

  get connected() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  /** Send one event if the socket is open; false if it could not be sent. */
  send(event) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(event));
    return true;
  }

  // ---- internals -------------------------------------------------------------

  cancelRetry() {
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = null;
  }

  connect() {
    let socket;
    try {
      socket = new WebSocket(socketUrl(), [SUBPROTOCOL]);
    } catch (error) {
      // A malformed URL cannot get better by retrying, but keep the contract.
      this.socket = null;
      queueMicrotask(() => this.lost(null, 0, String(error)));
      return;
    }
    this.socket = socket;
    let heard = false;
    const timeout = setTimeout(() => {
      if (this.socket === socket && socket.readyState === WebSocket.CONNECTING) {
        this.lost(socket, 0, "timed out");
        socket.close();
      }
    }, CONNECT_TIMEOUT);

    socket.addEventListener("open", () => {
      clearTimeout(timeout);
      if (this.socket !== socket) return;
      const hello = this.hello();
      if (hello) socket.send(JSON.stringify(hello));
      this.onOpen({ protocol: socket.protocol, attempt: this.attempt });
    });
    socket.addEventListener("message", ({ data }) => {
      if (this.socket !== socket || typeof data !== "string") return;
      if (!heard) {
        // The server answered: the connection works, so the backoff starts over.
        heard = true;
        this.attempt = 0;
      }
      let event;
      try {
        event = JSON.parse(data);
      } catch {
        console.warn("Ignoring a frame that is not JSON", data);
        return;
      }
      if (event && typeof event === "object" && typeof event.type === "string") {
        this.onEvent(event);
      }
    });
    socket.addEventListener("close", ({ code, reason }) => {
      clearTimeout(timeout);
      this.lost(socket, code, reason);
    });
  }

  lost(socket, code, reason) {
    if (socket !== this.socket) return; // an old socket, or one closed on purpose
    this.socket = null;
    if (!this.running) return;
    if (code === CLOSE_REPLACED) {
      this.running = false;
      this.onEnd({ code, reason });
      return;
    }
    this.attempt += 1;
    const delay = backoff(this.attempt);
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retryAt = null;
      if (!this.running) return;
      this.onRetry({ attempt: this.attempt });
      this.connect();
    }, delay);
    this.onDown({ code, reason, attempt: this.attempt, delay });
  }
}
