// The demo page's browser script. Plain ES2020 run as a classic inline script; it talks to the hub
// with the browser's own APIs (fetch, EventSource, a hidden iframe, WebSocket). Message content is
// only ever written with textContent: no innerHTML anywhere.
//
// Kept in a String.raw template, so the script itself uses no template literals.

/** Browser JavaScript of the demo page, inlined into its `<script>` element. */
export const DEMO_SCRIPT: string = String.raw`
"use strict";
(() => {
  const TRANSPORTS = ["websocket", "sse", "longpoll", "shortpoll", "iframe"];
  const LABELS = {
    websocket: "WebSocket",
    sse: "Server-Sent Events",
    longpoll: "Long poll",
    shortpoll: "Short poll",
    iframe: "Hidden iframe",
  };
  const SHORT_POLL_MS = 1000; // short-poll period
  const LONG_POLL_S = 25; // long-poll timeout asked of the hub
  const SEEN_LIMIT = 2000; // ids remembered per pane to drop a duplicate after a switch
  const CHAT_LIMIT = 200; // chat messages kept on screen
  const HOTPLUG_LIMIT = 60; // hot-plug events kept on screen
  const READINGS_LIMIT = 900; // sensor readings kept for the chart
  const CHART_WINDOW_MS = 60000; // the chart shows at most the last minute
  const CHART_MIN_WINDOW_MS = 20000; // and at least 20 seconds
  const params = new URLSearchParams(location.search);
  // A tab hidden this long closes its connections until shown again (?pause=SECONDS).
  const pauseParam = Number(params.get("pause"));
  const HIDDEN_PAUSE_MS = params.has("pause") && pauseParam >= 0 ? pauseParam * 1000 : 60000;
  let frameSeq = 0;

  // ---- small helpers -------------------------------------------------------------------------

  function h(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const key of Object.keys(props)) {
        const value = props[key];
        if (value === undefined || value === null) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = String(value);
        else node.setAttribute(key, String(value));
      }
    }
    // append() turns strings into text nodes: data never becomes markup.
    if (children) for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function channelUrl(channel, suffix, query) {
    const url = "/channels/" + encodeURIComponent(channel) + (suffix || "");
    const q = new URLSearchParams();
    if (query) {
      for (const key of Object.keys(query)) {
        const value = query[key];
        if (value !== undefined && value !== null && value !== "") q.set(key, String(value));
      }
    }
    const qs = q.toString();
    return qs ? url + "?" + qs : url;
  }

  function parseMaybeJson(text) {
    try {
      return JSON.parse(text);
    } catch (_) {
      return text;
    }
  }

  // Data as an object: JSON published as text (a WebSocket frame, curl -d) is parsed once more.
  function objectData(data) {
    if (typeof data === "string") data = parseMaybeJson(data);
    return data !== null && typeof data === "object" && !Array.isArray(data) ? data : null;
  }

  function finite(value) {
    return typeof value === "number" && isFinite(value);
  }

  function messageTime(msg) {
    const t = msg && msg.time;
    if (!finite(t)) return Date.now();
    return t < 1e11 ? t * 1000 : t; // seconds or milliseconds
  }

  function clock(ms) {
    const d = new Date(ms);
    const two = (n) => (n < 10 ? "0" : "") + n;
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function publish(channel, data) {
    return fetch(channelUrl(channel), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(data),
    }).then((res) => {
      if (!res.ok) throw new Error("publish failed: HTTP " + res.status);
      return res.json();
    });
  }

  // ---- one subscription, any transport, resuming from the last id it saw --------------------

  class Subscription {
    constructor(channel, hooks) {
      this.channel = channel;
      this.hooks = hooks; // { message(msg), reset(), status(), events: [names] }
      this.transport = null;
      this.state = "idle";
      this.lastId = null;
      this.count = 0;
      this.seen = new Set();
      this.gen = 0; // bumped on every switch: callbacks of an older transport are ignored
      this.cleanup = [];
      this.retries = 0;
      this.ready = false; // history loaded once
      this.socket = null;
    }

    use(transport) {
      if (TRANSPORTS.indexOf(transport) < 0) transport = "sse";
      this.stop();
      this.transport = transport;
      this.retries = 0;
      this.setState("connecting");
      this.open(this.gen);
    }

    stop() {
      this.gen++;
      this.release();
      this.socket = null;
    }

    // Runs and forgets the cleanups of the current connection.
    release() {
      const fns = this.cleanup;
      this.cleanup = [];
      for (const fn of fns) {
        try {
          fn();
        } catch (_) { /* already closed */ }
      }
    }

    // Lets go of the connection; use() resumes from the last id seen.
    suspend() {
      this.stop();
      this.setState("paused");
    }

    alive(gen) {
      return gen === this.gen;
    }

    onStop(fn) {
      this.cleanup.push(fn);
    }

    setState(state) {
      if (this.state === state) return;
      this.state = state;
      this.hooks.status();
    }

    live() {
      this.retries = 0;
      this.setState("live");
    }

    retry(gen, fn) {
      if (!this.alive(gen)) return;
      this.setState("reconnecting");
      const delay = Math.min(8000, 400 * Math.pow(2, this.retries)) * (0.75 + Math.random() * 0.5);
      this.retries = Math.min(this.retries + 1, 6);
      const timer = setTimeout(() => {
        if (!this.alive(gen)) return;
        this.release(); // what is left of the failed connection, so retries do not pile up
        fn();
      }, delay);
      this.onStop(() => clearTimeout(timer));
    }

    deliver(msg) {
      if (!msg || typeof msg !== "object") return;
      if (msg.reset === true && (msg.id === undefined || msg.id === null)) {
        this.hooks.reset();
        return;
      }
      if (msg.id === undefined || msg.id === null) return;
      const id = String(msg.id);
      if (id !== "") {
        if (this.seen.has(id)) return;
        this.seen.add(id);
        if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
        this.lastId = id;
      }
      this.count++;
      this.hooks.message(msg);
      this.hooks.status();
    }

    // A short- or long-poll answer: {messages, cursor, reset?}.
    batch(body) {
      if (!body || typeof body !== "object") return;
      if (body.reset === true) this.hooks.reset();
      if (Array.isArray(body.messages)) for (const msg of body.messages) this.deliver(msg);
      if (body.cursor !== undefined && body.cursor !== null && body.cursor !== "") {
        this.lastId = String(body.cursor);
      }
    }

    getJson(url, signal) {
      return fetch(url, { cache: "no-store", signal }).then((res) => {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      });
    }

    // One plain GET: the history on first use, the catch-up after a (re)connect.
    catchUp(gen, then) {
      const ctrl = new AbortController();
      this.onStop(() => ctrl.abort());
      this.getJson(channelUrl(this.channel, "", { after: this.lastId }), ctrl.signal).then(
        (body) => {
          if (!this.alive(gen)) return;
          this.batch(body);
          this.ready = true;
          then();
        },
        () => this.retry(gen, () => this.open(gen)),
      );
    }

    open(gen) {
      if (!this.ready) {
        this.catchUp(gen, () => this.open(gen));
        return;
      }
      switch (this.transport) {
        case "websocket":
          return this.openWebSocket(gen);
        case "sse":
          return this.openSse(gen);
        case "longpoll":
          return this.openLongPoll(gen);
        case "shortpoll":
          return this.openShortPoll(gen);
        case "iframe":
          return this.openIframe(gen);
      }
    }

    openWebSocket(gen) {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(
        scheme + "//" + location.host + channelUrl(this.channel, "/ws", { after: this.lastId }),
      );
      let pending = []; // frames that arrive while the catch-up GET is in flight
      this.onStop(() => {
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        ws.close();
      });
      ws.onopen = () => {
        if (!this.alive(gen)) return;
        // The socket carries what is published from now on; one GET fills the gap since lastId.
        const ctrl = new AbortController();
        this.onStop(() => ctrl.abort());
        this.getJson(channelUrl(this.channel, "", { after: this.lastId }), ctrl.signal).then(
          (body) => {
            if (!this.alive(gen)) return;
            this.batch(body);
            const queued = pending;
            pending = null;
            for (const msg of queued) this.deliver(msg);
            this.socket = ws;
            this.live();
          },
          () => ws.close(),
        );
      };
      ws.onmessage = (event) => {
        if (!this.alive(gen) || typeof event.data !== "string") return;
        const msg = parseMaybeJson(event.data);
        if (pending) pending.push(msg);
        else this.deliver(msg);
      };
      ws.onclose = () => {
        if (!this.alive(gen)) return;
        this.socket = null;
        this.retry(gen, () => this.openWebSocket(gen));
      };
    }

    openSse(gen) {
      const es = new EventSource(channelUrl(this.channel, "/events", { lastEventId: this.lastId }));
      this.onStop(() => es.close());
      const onEvent = (event) => {
        if (!this.alive(gen)) return;
        const msg = { id: event.lastEventId, channel: this.channel, data: parseMaybeJson(event.data) };
        if (event.type !== "message") msg.event = event.type;
        this.deliver(msg);
      };
      es.addEventListener("message", onEvent);
      for (const name of this.hooks.events || []) es.addEventListener(name, onEvent);
      es.addEventListener("reset", () => {
        if (this.alive(gen)) this.hooks.reset();
      });
      es.onopen = () => {
        if (this.alive(gen)) this.live();
      };
      // Reconnect ourselves (not the browser's retry) so the URL carries the newest id.
      es.onerror = () => {
        if (!this.alive(gen)) return;
        es.close();
        this.retry(gen, () => this.openSse(gen));
      };
    }

    openLongPoll(gen) {
      const ctrl = new AbortController();
      this.onStop(() => ctrl.abort());
      const loop = () => {
        if (!this.alive(gen)) return;
        const url = channelUrl(this.channel, "/longpoll", { after: this.lastId, timeout: LONG_POLL_S });
        this.getJson(url, ctrl.signal).then(
          (body) => {
            if (!this.alive(gen)) return;
            this.batch(body);
            this.live();
            loop();
          },
          () => this.retry(gen, () => this.openLongPoll(gen)),
        );
      };
      // A long poll answers only when there is news: a quick GET first proves the hub is there.
      this.catchUp(gen, () => {
        this.live();
        loop();
      });
    }

    openShortPoll(gen) {
      const ctrl = new AbortController();
      let timer = 0;
      this.onStop(() => {
        ctrl.abort();
        clearTimeout(timer);
      });
      const tick = () => {
        if (!this.alive(gen)) return;
        this.getJson(channelUrl(this.channel, "", { after: this.lastId }), ctrl.signal).then(
          (body) => {
            if (!this.alive(gen)) return;
            this.batch(body);
            this.live();
            timer = setTimeout(tick, SHORT_POLL_MS);
          },
          () => this.retry(gen, () => this.openShortPoll(gen)),
        );
      };
      tick();
    }

    openIframe(gen) {
      // A forever frame added before the page's load event would hold that event back for good.
      if (document.readyState !== "complete") {
        const later = () => {
          if (this.alive(gen)) this.openIframe(gen);
        };
        window.addEventListener("load", later, { once: true });
        this.onStop(() => window.removeEventListener("load", later));
        return;
      }
      const name = "pushwireFrame" + ++frameSeq;
      const frame = document.createElement("iframe");
      frame.hidden = true;
      frame.tabIndex = -1;
      frame.title = "pushwire iframe transport";
      frame.setAttribute("aria-hidden", "true");
      window[name] = (msg) => {
        if (!this.alive(gen)) return;
        this.deliver(msg);
        if (this.state !== "live") this.live();
      };
      // The frame document is ours (same origin): once it has committed, the stream is open.
      const watch = setInterval(() => {
        let url = "";
        try {
          url = frame.contentDocument ? frame.contentDocument.URL : "";
        } catch (_) { /* not yet readable */ }
        if (url.indexOf("/iframe") >= 0) {
          clearInterval(watch);
          if (this.alive(gen)) this.live();
        }
      }, 150);
      const remove = () => {
        clearInterval(watch);
        delete window[name];
        frame.remove();
      };
      this.onStop(remove);
      // "load" fires when the endless document ends: the hub closed it, or answered an error.
      frame.addEventListener("load", () => {
        if (!this.alive(gen)) return;
        remove();
        this.retry(gen, () => this.openIframe(gen));
      });
      frame.src = channelUrl(this.channel, "/iframe", { callback: name, after: this.lastId });
      document.body.append(frame);
    }

    // Sends over the open WebSocket (a client text frame is published); false when there is none.
    sendOverSocket(text) {
      if (this.transport !== "websocket" || !this.socket || this.socket.readyState !== 1) return false;
      this.socket.send(text);
      return true;
    }
  }

  // ---- panes -------------------------------------------------------------------------------

  function makePane(key, channel, defaultTransport, hooks) {
    const pane = document.getElementById("pane-" + key);
    const select = pane.querySelector("select.transport");
    const via = pane.querySelector(".via");
    const stateEl = pane.querySelector(".state");
    const countEl = pane.querySelector(".count");
    const notice = pane.querySelector(".reset-notice");
    const sub = new Subscription(channel, {
      events: hooks.events,
      message: hooks.message,
      reset: () => {
        pane.dataset.reset = String(Number(pane.dataset.reset || "0") + 1);
        notice.hidden = false;
      },
      status: () => {
        pane.dataset.transport = sub.transport || "";
        pane.dataset.state = sub.state;
        pane.dataset.count = String(sub.count);
        via.textContent = LABELS[sub.transport] || "";
        stateEl.textContent = sub.state;
        countEl.textContent = sub.count + (sub.count === 1 ? " message" : " messages");
      },
    });
    notice.querySelector("button").addEventListener("click", () => {
      notice.hidden = true;
    });
    let initial = params.get(key) || defaultTransport;
    if (TRANSPORTS.indexOf(initial) < 0) initial = defaultTransport;
    select.value = initial;
    select.addEventListener("change", () => sub.use(select.value));
    sub.use(initial);
    return sub;
  }

  function nearBottom(scroller) {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  }

  // Chat: { name, text } objects; plain text (curl, a bare WebSocket frame) shows as "anonymous".
  const chatPane = document.getElementById("pane-chat");
  const chatLog = chatPane.querySelector(".chat-log");
  const chatScroller = chatPane.querySelector(".pane-body");
  const chatEmpty = chatPane.querySelector(".empty");
  const chatForm = chatPane.querySelector(".chat-form");
  const nameInput = chatForm.querySelector("input.name");
  const textInput = chatForm.querySelector("input.text");
  const chatNote = chatForm.querySelector(".note");

  let storedName = "";
  try {
    storedName = localStorage.getItem("pushwire-demo-name") || "";
  } catch (_) { /* storage disabled */ }
  nameInput.value = params.get("name") || storedName || "guest-" + Math.floor(1000 + Math.random() * 9000);

  function hue(text) {
    let n = 0;
    for (let i = 0; i < text.length; i++) n = (n * 31 + text.charCodeAt(i)) % 360;
    return n;
  }

  function chatMessage(msg) {
    const data = objectData(msg.data);
    let name = "anonymous";
    let text;
    if (data) {
      if (typeof data.name === "string" && data.name.trim()) name = data.name.trim().slice(0, 40);
      text = typeof data.text === "string" ? data.text : JSON.stringify(data);
    } else {
      text = typeof msg.data === "string" ? msg.data : JSON.stringify(msg.data);
    }
    const stick = nearBottom(chatScroller);
    const avatar = h("span", { class: "avatar", "aria-hidden": "true", text: name.charAt(0) || "?" });
    avatar.style.setProperty("--hue", String(hue(name)));
    const item = h("li", { class: "msg" + (name === nameInput.value.trim() ? " mine" : ""), "data-id": msg.id }, [
      avatar,
      h("div", { class: "bubble" }, [
        h("div", { class: "meta" }, [h("span", { class: "who", text: name }), h("time", { text: clock(messageTime(msg)) })]),
        h("p", { class: "msg-text", text: text }),
      ]),
    ]);
    chatLog.append(item);
    while (chatLog.children.length > CHAT_LIMIT) chatLog.firstElementChild.remove();
    chatEmpty.hidden = true;
    if (stick) chatScroller.scrollTop = chatScroller.scrollHeight;
  }

  const chat = makePane("chat", "demo.chat", "websocket", { events: ["chat"], message: chatMessage });

  chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = nameInput.value.trim() || "anonymous";
    const text = textInput.value;
    if (!text.trim()) return;
    try {
      localStorage.setItem("pushwire-demo-name", name);
    } catch (_) { /* storage disabled */ }
    const body = { name: name, text: text };
    textInput.value = "";
    chatNote.classList.remove("error");
    if (chat.sendOverSocket(JSON.stringify(body))) {
      chatNote.textContent = "Sent as a WebSocket text frame.";
      return;
    }
    chatNote.textContent = "Sent with POST /channels/demo.chat";
    publish("demo.chat", body).catch((err) => {
      chatNote.classList.add("error");
      chatNote.textContent = "Not sent: " + err.message;
      textInput.value = text;
    });
  });

  // Quotes: { symbol, price, open } objects.
  const SYMBOLS = [
    ["ACME", "Acme Corp", 182.4],
    ["GLBX", "Globex", 64.12],
    ["INIT", "Initech", 23.85],
    ["UMBR", "Umbrella", 311.2],
    ["HOOL", "Hooli", 142.7],
    ["VNDL", "Vandelay", 9.42],
  ];
  const quotePane = document.getElementById("pane-quotes");
  const quoteBody = quotePane.querySelector("tbody");
  const quoteUpdated = quotePane.querySelector(".updated");
  const quotes = new Map();
  let lastQuoteAt = 0;

  function quoteRow(symbol, title) {
    const price = h("td", { class: "num price", text: "—" });
    const chg = h("span", { class: "chg", text: "—" });
    const pct = h("span", { class: "pct", text: "" });
    const spark = h("canvas", { class: "spark", width: 152, height: 52, "aria-hidden": "true" });
    const row = h("tr", { "data-symbol": symbol }, [
      h("td", { class: "sym" }, [symbol, h("small", { text: title })]),
      price,
      h("td", { class: "num" }, [chg, pct]),
      h("td", { class: "trend" }, [spark]),
    ]);
    quoteBody.append(row);
    const q = { row, price, chg, pct, spark, last: null, open: null, history: [] };
    quotes.set(symbol, q);
    return q;
  }
  for (const s of SYMBOLS) quoteRow(s[0], s[1]);

  function drawSpark(q) {
    const c = q.spark;
    const ctx = c.getContext("2d");
    const w = c.width;
    const hgt = c.height;
    ctx.clearRect(0, 0, w, hgt);
    const pts = q.history;
    if (pts.length < 2) return;
    let lo = Math.min.apply(null, pts);
    let hi = Math.max.apply(null, pts);
    if (hi - lo < 1e-9) {
      hi += 1;
      lo -= 1;
    }
    const css = getComputedStyle(document.documentElement);
    const up = pts[pts.length - 1] >= (q.open === null ? pts[0] : q.open);
    ctx.strokeStyle = css.getPropertyValue(up ? "--up" : "--down").trim() || "#888";
    ctx.lineWidth = 3;
    ctx.lineJoin = "round";
    ctx.beginPath();
    for (let i = 0; i < pts.length; i++) {
      const x = 3 + (i / (pts.length - 1)) * (w - 6);
      const y = 4 + (1 - (pts[i] - lo) / (hi - lo)) * (hgt - 8);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }

  // Market breadth: how many symbols are up and down on the session.
  const breadthUp = quotePane.querySelector(".breadth .bar-up");
  const breadthDown = quotePane.querySelector(".breadth .bar-down");
  const breadthText = quotePane.querySelector(".breadth-text");
  function updateBreadth() {
    let up = 0;
    let down = 0;
    for (const q of quotes.values()) {
      if (q.last === null) continue;
      if (q.last > q.open) up++;
      else if (q.last < q.open) down++;
    }
    const total = Math.max(1, quotes.size);
    breadthUp.style.width = (up / total) * 100 + "%";
    breadthDown.style.width = (down / total) * 100 + "%";
    breadthText.textContent = up + " up · " + down + " down · " + (quotes.size - up - down) + " flat";
  }

  function quoteMessage(msg) {
    const d = objectData(msg.data);
    if (!d || typeof d.symbol !== "string" || !finite(d.price)) return;
    const symbol = d.symbol.slice(0, 12).toUpperCase();
    const q = quotes.get(symbol) || quoteRow(symbol, typeof d.name === "string" ? d.name.slice(0, 30) : "");
    const price = d.price;
    if (finite(d.open)) q.open = d.open;
    else if (q.open === null) q.open = price;
    if (q.history.length === 0 && q.open !== price) q.history.push(q.open); // the line starts at the open
    const tick = q.last === null ? 0 : Math.sign(price - q.last);
    q.last = price;
    q.history.push(price);
    if (q.history.length > 40) q.history.shift();
    const change = price - q.open;
    const pct = q.open ? (change / q.open) * 100 : 0;
    q.price.textContent = price.toFixed(2);
    q.chg.textContent = (change > 0 ? "▲ +" : change < 0 ? "▼ " : "") + change.toFixed(2);
    q.pct.textContent = (pct > 0 ? "+" : "") + pct.toFixed(2) + "%";
    q.row.classList.toggle("up", change > 0);
    q.row.classList.toggle("down", change < 0);
    q.row.classList.remove("flash-up", "flash-down");
    void q.row.offsetWidth; // restart the flash animation
    if (tick) q.row.classList.add(tick > 0 ? "flash-up" : "flash-down");
    drawSpark(q);
    lastQuoteAt = Math.max(lastQuoteAt, messageTime(msg));
    quoteUpdated.textContent = "Last tick " + clock(messageTime(msg)) + " · " + symbol;
    updateBreadth();
    feed.adopt(symbol, price, q.open);
  }

  // Sensors: { kind: "reading", sensor, temperature, voltage } and
  // { kind: "hotplug", sensor, device, action: "attached" | "detached" } objects.
  const sensorPane = document.getElementById("pane-sensors");
  const canvas = sensorPane.querySelector("canvas.chart");
  const tempOut = sensorPane.querySelector(".temp-value");
  const voltOut = sensorPane.querySelector(".volt-value");
  const sensorName = sensorPane.querySelector(".sensor-name");
  const hotplugList = sensorPane.querySelector(".hotplug");
  const hotplugEmpty = sensorPane.querySelector(".hotplug-empty");
  const readings = [];
  let lastReadingAt = 0;

  function addHotplug(d, at) {
    const action = d.action === "detached" ? "detached" : "attached";
    const device = typeof d.device === "string" ? d.device.slice(0, 40) : "device";
    const item = h("li", null, [
      h("span", { class: "badge " + action, text: action }),
      h("span", { class: "dev", text: device }),
      typeof d.sensor === "string" ? h("span", { class: "where", text: "on " + d.sensor.slice(0, 40) }) : null,
      h("time", { text: clock(at) }),
    ]);
    hotplugList.prepend(item);
    while (hotplugList.children.length > HOTPLUG_LIMIT) hotplugList.lastElementChild.remove();
    hotplugEmpty.hidden = true;
    feed.adoptDevice(device, action);
  }

  function sensorMessage(msg) {
    const d = objectData(msg.data);
    if (!d) return;
    const at = finite(d.t) ? d.t : messageTime(msg);
    if (d.kind === "hotplug" || msg.event === "hotplug") {
      addHotplug(d, at);
      return;
    }
    if (!finite(d.temperature) && !finite(d.voltage)) return;
    readings.push({
      t: at,
      temperature: finite(d.temperature) ? d.temperature : null,
      voltage: finite(d.voltage) ? d.voltage : null,
    });
    if (readings.length > READINGS_LIMIT) readings.shift();
    if (finite(d.temperature)) tempOut.textContent = d.temperature.toFixed(1);
    if (finite(d.voltage)) voltOut.textContent = d.voltage.toFixed(2);
    if (typeof d.sensor === "string") sensorName.textContent = d.sensor.slice(0, 40);
    lastReadingAt = Math.max(lastReadingAt, at);
    scheduleDraw();
  }

  // An axis of exactly "rows" intervals whose step is a round number (1, 1.5, 2, 2.5, 3, 4, 5,
  // 6 or 8 times a power of ten).
  function niceAxis(lo, hi, rows, minSpan) {
    if (hi - lo < minSpan) {
      const mid = (hi + lo) / 2;
      lo = mid - minSpan / 2;
      hi = mid + minSpan / 2;
    }
    let step = 0;
    let from = lo;
    const pad = (hi - lo) * 0.04; // keep the lines off the frame
    lo -= pad;
    hi += pad;
    const base = Math.pow(10, Math.floor(Math.log10((hi - lo) / rows)));
    for (const k of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 25, 30, 40, 50]) {
      step = k * base;
      from = Math.floor(lo / step) * step;
      if (from + rows * step >= hi) break;
    }
    const power = Math.floor(Math.log10(step) + 1e-9);
    const mantissa = Math.round((step / Math.pow(10, power)) * 1e6) / 1e6; // 1.5, 2.5: one digit more
    const digits = Math.max(0, -power + (mantissa % 1 ? 1 : 0));
    return { lo: from, hi: from + rows * step, digits };
  }

  let drawQueued = false;
  function scheduleDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      drawChart();
    });
  }

  function drawChart() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const hgt = canvas.clientHeight;
    if (!w || !hgt) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(hgt * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const css = getComputedStyle(document.documentElement);
    const color = (name) => css.getPropertyValue(name).trim();
    const left = 40;
    const right = w - 44;
    const top = 10;
    const bottom = hgt - 22;
    const now = Math.max(Date.now(), lastReadingAt);
    // The window grows from 20 s to a minute as readings arrive, so a fresh chart is not empty.
    const oldest = readings.length ? readings[0].t : now;
    const span = Math.min(CHART_WINDOW_MS, Math.max(CHART_MIN_WINDOW_MS, Math.ceil((now - oldest) / 5000) * 5000));
    const from = now - span;
    const xOf = (t) => left + ((t - from) / span) * (right - left);
    const visible = readings.filter((r) => r.t >= from - 2000);
    ctx.font = "11px ui-sans-serif, system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.strokeStyle = color("--line");
    ctx.fillStyle = color("--muted");
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const step = span > 30000 ? 15 : span > 15000 ? 5 : 2;
    for (let s = 0; s * 1000 <= span; s += step) {
      const x = xOf(now - s * 1000);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, top);
      ctx.lineTo(Math.round(x) + 0.5, bottom);
      ctx.stroke();
      ctx.fillText(s === 0 ? "now" : "-" + s + "s", x, bottom + 6);
    }
    const series = [
      { key: "temperature", color: color("--temp"), minSpan: 2, side: "left" },
      { key: "voltage", color: color("--volt"), minSpan: 0.2, side: "right" },
    ];
    const rows = 4;
    for (let i = 0; i <= rows; i++) {
      const y = Math.round(top + (i / rows) * (bottom - top)) + 0.5;
      ctx.strokeStyle = color("--line");
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(right, y);
      ctx.stroke();
    }
    if (visible.length === 0) {
      ctx.fillStyle = color("--muted");
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = "13px ui-sans-serif, system-ui, sans-serif";
      ctx.fillText("Waiting for readings…", (left + right) / 2, (top + bottom) / 2);
      return;
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - 4, right - left, bottom - top + 8);
    ctx.clip();
    const ranges = {};
    for (const s of series) {
      const values = visible.map((r) => r[s.key]).filter((v) => v !== null);
      if (!values.length) continue;
      const range = niceAxis(Math.min.apply(null, values), Math.max.apply(null, values), rows, s.minSpan);
      ranges[s.key] = range;
      const yOf = (v) => bottom - ((v - range.lo) / (range.hi - range.lo)) * (bottom - top);
      const pts = visible.filter((r) => r[s.key] !== null);
      if (s.key === "temperature" && pts.length > 1) {
        const grad = ctx.createLinearGradient(0, top, 0, bottom);
        grad.addColorStop(0, s.color + "33");
        grad.addColorStop(1, s.color + "00");
        ctx.fillStyle = grad;
        ctx.beginPath();
        ctx.moveTo(xOf(pts[0].t), bottom);
        for (const r of pts) ctx.lineTo(xOf(r.t), yOf(r[s.key]));
        ctx.lineTo(xOf(pts[pts.length - 1].t), bottom);
        ctx.closePath();
        ctx.fill();
      }
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.lineCap = "round";
      ctx.beginPath();
      pts.forEach((r, i) => (i === 0 ? ctx.moveTo(xOf(r.t), yOf(r[s.key])) : ctx.lineTo(xOf(r.t), yOf(r[s.key]))));
      ctx.stroke();
      const lastPt = pts[pts.length - 1];
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.arc(xOf(lastPt.t), yOf(lastPt[s.key]), 3.5, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.restore();
    ctx.font = "11px ui-sans-serif, system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const s of series) {
      const range = ranges[s.key];
      if (!range) continue;
      ctx.fillStyle = s.color;
      ctx.textAlign = s.side === "left" ? "right" : "left";
      for (let i = 0; i <= rows; i++) {
        const v = range.hi - (i / rows) * (range.hi - range.lo);
        const y = top + (i / rows) * (bottom - top);
        ctx.fillText(v.toFixed(range.digits), s.side === "left" ? left - 6 : right + 6, y);
      }
    }
  }
  setInterval(scheduleDraw, 500); // keep the time axis moving
  if (window.ResizeObserver) new ResizeObserver(scheduleDraw).observe(canvas);

  // ---- the simulated feed: synthetic quotes and readings published from this tab -----------

  const feedToggle = document.getElementById("feed-toggle");
  const feedHint = document.querySelector(".feed .hint");
  const feed = {
    on: false,
    timers: [],
    prices: {},
    opens: {},
    devices: { "usb-1": "attached", "usb-2": "detached", "psu-b": "attached", "fan-3": "attached", "disk-4": "detached" },
    adopt(symbol, price, open) {
      this.prices[symbol] = price;
      if (open !== null) this.opens[symbol] = open;
    },
    adoptDevice(device, action) {
      if (device in this.devices) this.devices[device] = action;
    },
    start(reason) {
      if (this.on) return;
      this.on = true;
      feedToggle.checked = true;
      feedHint.textContent = reason || "publishing from this tab";
      this.timers.push(setInterval(() => this.quote(), 650));
      this.timers.push(setInterval(() => this.reading(), 1000));
      this.timers.push(setInterval(() => {
        if (Math.random() < 0.3) this.hotplug();
      }, 2000));
      this.reading();
      for (let i = 0; i < SYMBOLS.length; i++) this.quote(SYMBOLS[i][0]);
    },
    stop() {
      this.on = false;
      feedToggle.checked = false;
      feedHint.textContent = "off";
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
    },
    quote(symbol) {
      const pick = symbol || SYMBOLS[Math.floor(Math.random() * SYMBOLS.length)][0];
      const base = SYMBOLS.find((s) => s[0] === pick);
      const open = this.opens[pick] || (base ? base[2] : 100);
      const last = this.prices[pick] || open;
      const drift = (open - last) * 0.02; // mean-reverting walk
      const price = Math.max(0.01, last * (1 + (Math.random() - 0.5) * 0.006) + drift);
      this.prices[pick] = price;
      this.opens[pick] = open;
      publish("demo.quotes", { symbol: pick, price: Math.round(price * 100) / 100, open }).catch(() => {});
    },
    reading() {
      const t = Date.now() / 1000;
      const temperature = 41 + 4 * Math.sin(t / 19) + 1.2 * Math.sin(t / 4.3) + (Math.random() - 0.5) * 0.6;
      const voltage = 12 + 0.12 * Math.sin(t / 11 + 1) + (Math.random() - 0.5) * 0.05;
      publish("demo.sensors", {
        kind: "reading",
        sensor: "rack-7",
        temperature: Math.round(temperature * 10) / 10,
        voltage: Math.round(voltage * 1000) / 1000,
      }).catch(() => {});
    },
    hotplug() {
      const names = Object.keys(this.devices);
      const device = names[Math.floor(Math.random() * names.length)];
      const action = this.devices[device] === "attached" ? "detached" : "attached";
      this.devices[device] = action;
      publish("demo.sensors", { kind: "hotplug", sensor: "rack-7", device, action }).catch(() => {});
    },
  };
  feedToggle.addEventListener("change", () => (feedToggle.checked ? feed.start() : feed.stop()));

  const panes = [
    chat,
    makePane("quotes", "demo.quotes", "sse", { events: ["quote"], message: quoteMessage }),
    makePane("sensors", "demo.sensors", "longpoll", { events: ["reading", "hotplug"], message: sensorMessage }),
  ];

  // A browser opens at most 6 HTTP/1.1 connections per host for all its tabs together, and each
  // streaming pane holds one: a tab hidden for a while lets go of its connections, and resumes
  // from the last ids it saw when shown again.
  let hiddenTimer = 0;
  document.addEventListener("visibilitychange", () => {
    clearTimeout(hiddenTimer);
    if (document.hidden) {
      hiddenTimer = setTimeout(() => {
        for (const sub of panes) sub.suspend();
      }, HIDDEN_PAUSE_MS);
    } else {
      for (const sub of panes) if (sub.state === "paused") sub.use(sub.transport);
    }
  });

  // ?feed=on starts the feed, ?feed=off never does; otherwise it starts by itself when nothing
  // (no server-side simulator, no other tab) has published quotes or readings recently.
  const feedParam = params.get("feed");
  if (feedParam === "on") feed.start();
  else if (feedParam !== "off") {
    setTimeout(() => {
      const quiet = Date.now() - Math.max(lastQuoteAt, lastReadingAt) > 5000;
      if (!feed.on && quiet) feed.start("auto-started: nothing else is publishing");
    }, 2500);
  }

  for (const node of document.querySelectorAll(".host")) node.textContent = location.host;
})();
`;
