// The WebSocket connection to the game server.
//
// Everything about the socket lives here so that reconnecting and resuming
// can be added in one place later. The rest of the page only sees parsed
// events (`onEvent`), and a single `onLost` when the connection ends without
// the page asking for it.

export const SUBPROTOCOL = "connectfour.v1";

/** The WebSocket endpoint on the host that served this page. */
export function socketUrl(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws`;
}

export class Connection {
  /**
   * @param {object} handlers
   * @param {(event: object) => void} handlers.onEvent  one parsed server event
   * @param {() => void} [handlers.onOpen]
   * @param {(info: {code: number, reason: string}) => void} [handlers.onLost]
   */
  constructor({ onEvent, onOpen = () => {}, onLost = () => {} }) {
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onLost = onLost;
    this.socket = null;
    this.closing = false;
    this.queue = [];
    // Leaving or reloading the page closes the socket on purpose.
    window.addEventListener("pagehide", () => this.close());
  }

  /** Open the socket and send `hello` (the `init` event) once it is open. */
  open(hello) {
    this.closing = false;
    this.queue = [hello];
    let socket;
    try {
      socket = new WebSocket(socketUrl(), [SUBPROTOCOL]);
    } catch (error) {
      queueMicrotask(() => this.onLost({ code: 0, reason: String(error) }));
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      const pending = this.queue;
      this.queue = [];
      for (const event of pending) this.send(event);
      this.onOpen({ protocol: socket.protocol });
    });
    socket.addEventListener("message", ({ data }) => {
      if (typeof data !== "string") return;
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
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.closing) this.onLost({ code, reason });
    });
  }

  /** Send one event; queued until the socket is open. */
  send(event) {
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(event));
      return true;
    }
    if (socket && socket.readyState === WebSocket.CONNECTING) {
      this.queue.push(event);
      return true;
    }
    return false;
  }

  get connected() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  /** Close on purpose: no `onLost`. */
  close() {
    this.closing = true;
    if (this.socket) this.socket.close(1000, "bye");
  }
}
