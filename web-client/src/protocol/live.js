// The client WebSocket (/ws): JSON messages in and out, reconnects with backoff. Stops for
// good on the close codes that mean "do not come back" (docs/PROTOCOL.md): the lesson ended
// (4001), removed (4002), logged out (4004), login card replaced (4005).

const FINAL_CODES = new Set([4001, 4002, 4004, 4005]);

export function connectLive({ lessonId, onMessage, onState, onOpen }) {
  let socket;
  let attempt = 0;
  let stopped = false;
  let timer;

  const url = () => {
    const base = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    return lessonId ? `${base}?lesson=${encodeURIComponent(lessonId)}` : base;
  };

  const send = (message) => {
    if (socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  };

  const open = () => {
    socket = new WebSocket(url());
    socket.addEventListener('open', () => {
      attempt = 0;
      onState?.('online');
      onOpen?.(send);
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        // A message we cannot read is ignored; the server never sends one on purpose.
        return;
      }
      onMessage(message);
    });
    socket.addEventListener('close', (event) => {
      if (stopped) return;
      if (FINAL_CODES.has(event.code)) {
        onState?.('closed', event.code);
        return;
      }
      onState?.('reconnecting');
      attempt += 1;
      timer = setTimeout(open, Math.min(30000, 500 * 2 ** Math.min(attempt, 6)));
    });
  };
  open();

  return {
    send,
    close() {
      stopped = true;
      clearTimeout(timer);
      socket?.close(1000);
    },
  };
}
