// The demo page's stylesheet. Plain CSS, no web fonts: the page must work offline and behind a CSP
// that allows nothing but the page itself.

/** CSS of the demo page, inlined into its `<style>` element. */
export const DEMO_STYLE: string = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f3f4f7;
  --card: #ffffff;
  --ink: #151821;
  --muted: #667085;
  --line: #e5e7ee;
  --soft: #f7f8fa;
  --accent: #4f46e5;
  --up: #079455;
  --down: #d92d20;
  --warn: #b54708;
  --temp: #f26b1d;
  --volt: #0b8fd6;
  --radius: 14px;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.05), 0 6px 20px rgba(16, 24, 40, 0.06);
  font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
    "Noto Sans", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0c0e13;
    --card: #151820;
    --ink: #e8eaf0;
    --muted: #98a2b3;
    --line: #272c38;
    --soft: #1b1f29;
    --accent: #6b70f0;
    --up: #32d583;
    --down: #f97066;
    --warn: #fdb022;
    --temp: #fb8c3c;
    --volt: #36b3f2;
    --shadow: 0 1px 2px rgba(0, 0, 0, 0.3), 0 6px 20px rgba(0, 0, 0, 0.25);
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--ink);
  font-size: 14px;
  line-height: 1.45;
  -webkit-font-smoothing: antialiased;
}
.wrap { max-width: 1440px; margin: 0 auto; padding: 0 24px; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
code, pre, .mono {
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}

/* Header */
.top {
  display: flex; align-items: center; justify-content: space-between; gap: 16px;
  flex-wrap: wrap; padding-top: 22px; padding-bottom: 6px;
}
.brand { display: flex; align-items: center; gap: 12px; }
.logo {
  width: 38px; height: 38px; border-radius: 11px; flex: none; position: relative;
  background: linear-gradient(135deg, #6366f1 0%, #0ea5e9 100%);
  box-shadow: 0 4px 14px rgba(79, 70, 229, 0.35);
}
.logo::before, .logo::after {
  content: ""; position: absolute; border-radius: 50%;
  border: 2.5px solid rgba(255, 255, 255, 0.95);
  border-color: rgba(255, 255, 255, 0.95) rgba(255, 255, 255, 0.95) transparent transparent;
  transform: rotate(45deg);
}
.logo::before { width: 22px; height: 22px; left: 3px; bottom: 3px; }
.logo::after { width: 10px; height: 10px; left: 9px; bottom: 9px; }
h1 { font-size: 20px; line-height: 1.2; margin: 0; letter-spacing: -0.015em; }
h1 span { color: var(--muted); font-weight: 500; }
.tagline { margin: 1px 0 0; color: var(--muted); font-size: 13px; }
.intro { color: var(--muted); margin: 6px 0 18px; max-width: 860px; }
.intro strong { color: var(--ink); font-weight: 600; }

/* Feed switch */
.feed {
  display: inline-flex; align-items: center; gap: 10px; cursor: pointer; user-select: none;
  background: var(--card); border: 1px solid var(--line); border-radius: 999px;
  padding: 7px 14px 7px 8px; box-shadow: var(--shadow); font-size: 13px;
}
.feed input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.feed .track {
  width: 34px; height: 20px; border-radius: 999px; background: var(--line);
  position: relative; transition: background 0.2s; flex: none;
}
.feed .track::after {
  content: ""; position: absolute; top: 2px; left: 2px; width: 16px; height: 16px;
  border-radius: 50%; background: #fff; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.3);
  transition: transform 0.2s;
}
.feed input:checked + .track { background: var(--accent); }
.feed input:checked + .track::after { transform: translateX(14px); }
.feed input:focus-visible + .track { outline: 2px solid var(--accent); outline-offset: 2px; }
.feed .label { font-weight: 600; }
.feed .hint { color: var(--muted); }

/* Panes */
.grid {
  display: grid; gap: 20px; padding-bottom: 28px;
  grid-template-columns: repeat(3, minmax(0, 1fr));
}
.pane {
  background: var(--card); border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: var(--shadow); display: flex; flex-direction: column; height: 640px;
  min-width: 0; overflow: hidden;
}
.pane-head {
  display: flex; align-items: flex-start; justify-content: space-between; gap: 10px 12px;
  padding: 14px 16px 10px; flex-wrap: wrap;
}
.pane-title { min-width: 0; flex: 1 1 180px; }
.pane-title h2 {
  margin: 0; font-size: 15px; letter-spacing: -0.01em; display: flex; align-items: center;
  gap: 4px 8px; flex-wrap: wrap;
}
.pane-title p { margin: 2px 0 0; color: var(--muted); font-size: 12px; }
.pane-title code {
  font-size: 11px; font-weight: 500; color: var(--muted); background: var(--soft);
  border: 1px solid var(--line); border-radius: 6px; padding: 1px 6px;
}
.picker { position: relative; flex: none; }
.picker::after {
  content: ""; position: absolute; right: 11px; top: 50%; width: 6px; height: 6px;
  margin-top: -5px; border: solid var(--muted); border-width: 0 1.5px 1.5px 0;
  transform: rotate(45deg); pointer-events: none;
}
select.transport {
  appearance: none; -webkit-appearance: none; font: inherit; font-size: 13px; font-weight: 500;
  color: var(--ink); background: var(--soft); border: 1px solid var(--line); border-radius: 8px;
  padding: 6px 30px 6px 10px; cursor: pointer;
}
select.transport:hover { border-color: var(--muted); }

.status {
  display: flex; align-items: center; gap: 8px; flex-wrap: wrap;
  padding: 0 16px 12px; font-size: 12px; color: var(--muted);
  border-bottom: 1px solid var(--line);
}
.status .dot {
  width: 8px; height: 8px; border-radius: 50%; background: #98a2b3; flex: none;
}
.pane[data-state="live"] .dot {
  background: var(--up); box-shadow: 0 0 0 3px color-mix(in srgb, var(--up) 22%, transparent);
}
.pane[data-state="connecting"] .dot { background: #f79009; animation: pulse 1s ease-in-out infinite; }
.pane[data-state="reconnecting"] .dot { background: var(--down); animation: pulse 0.8s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: 0.3; } }
.status .via { color: var(--ink); font-weight: 600; }
.status .state {
  padding: 1px 8px; border-radius: 999px; background: var(--soft); border: 1px solid var(--line);
  font-weight: 500;
}
.pane[data-state="live"] .state { color: var(--up); }
.pane[data-state="reconnecting"] .state { color: var(--down); }
.status .count { margin-left: auto; font-variant-numeric: tabular-nums; }

.reset-notice {
  margin: 10px 16px 0; padding: 8px 10px; border-radius: 8px; font-size: 12.5px;
  display: flex; gap: 8px; align-items: flex-start; color: var(--warn);
  background: color-mix(in srgb, #f79009 13%, transparent);
  border: 1px solid color-mix(in srgb, #f79009 35%, transparent);
}
.reset-notice[hidden] { display: none; }
.reset-notice button {
  margin-left: auto; background: transparent; color: inherit; border: 0; padding: 0 2px;
  font: inherit; font-weight: 700; cursor: pointer;
}

.pane-body { flex: 1; min-height: 0; overflow: auto; }
.empty { color: var(--muted); text-align: center; padding: 36px 16px; font-size: 13px; }
.empty[hidden] { display: none; }

/* Chat */
.chat-log {
  list-style: none; margin: 0; padding: 14px 16px; display: flex; flex-direction: column; gap: 10px;
}
.msg { display: flex; gap: 10px; align-items: flex-end; }
.avatar {
  flex: none; width: 30px; height: 30px; border-radius: 50%; display: grid; place-items: center;
  font-weight: 700; font-size: 12.5px; color: #fff; text-transform: uppercase;
  background: hsl(var(--hue, 240) 62% 52%);
}
.bubble {
  min-width: 0; max-width: 82%; background: var(--soft); border: 1px solid var(--line);
  border-radius: 14px 14px 14px 4px; padding: 6px 11px 7px;
}
.msg.mine { flex-direction: row-reverse; }
.msg.mine .bubble {
  background: var(--accent); border-color: transparent; color: #fff;
  border-radius: 14px 14px 4px 14px;
}
.msg.mine .meta { color: rgba(255, 255, 255, 0.78); }
.meta { display: flex; gap: 8px; align-items: baseline; font-size: 11.5px; color: var(--muted); }
.who { font-weight: 600; }
.msg:not(.mine) .who { color: var(--ink); }
.msg-text { margin: 1px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.chat-form {
  display: grid; grid-template-columns: minmax(72px, 110px) 1fr auto; gap: 8px;
  padding: 12px 16px; border-top: 1px solid var(--line);
}
.chat-form .note { grid-column: 1 / -1; font-size: 11.5px; color: var(--muted); margin: -2px 0 0; }
.chat-form .note.error { color: var(--down); }
input[type="text"] {
  font: inherit; color: var(--ink); background: var(--soft); border: 1px solid var(--line);
  border-radius: 8px; padding: 8px 10px; min-width: 0; width: 100%;
}
input[type="text"]::placeholder { color: var(--muted); }
input[type="text"]:focus, select.transport:focus-visible, .btn:focus-visible {
  outline: 2px solid color-mix(in srgb, var(--accent) 60%, transparent); outline-offset: 1px;
}
.btn {
  font: inherit; font-weight: 600; border: 0; border-radius: 8px; padding: 8px 16px;
  background: var(--accent); color: #fff; cursor: pointer;
}
.btn:hover { filter: brightness(1.08); }

/* Quotes */
.quotes { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
.quotes th {
  text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em;
  color: var(--muted); font-weight: 600; padding: 10px 16px 6px; position: sticky; top: 0;
  background: var(--card); z-index: 1;
}
.quotes td { padding: 9px 16px; border-top: 1px solid var(--line); vertical-align: middle; }
.quotes .num { text-align: right; }
.quotes th.num { text-align: right; }
.sym { font-weight: 700; letter-spacing: 0.01em; }
.sym small { display: block; font-weight: 400; color: var(--muted); font-size: 11px; letter-spacing: 0; }
.price { font-weight: 600; font-size: 15px; }
.chg {
  display: inline-block; min-width: 72px; text-align: right; padding: 2px 7px; border-radius: 6px;
  font-weight: 600; font-size: 12px; color: var(--muted); background: var(--soft);
}
.pct { display: block; font-size: 11px; color: var(--muted); margin-top: 2px; }
tr.up .chg { color: var(--up); background: color-mix(in srgb, var(--up) 12%, transparent); }
tr.down .chg { color: var(--down); background: color-mix(in srgb, var(--down) 12%, transparent); }
tr.up .pct { color: var(--up); }
tr.down .pct { color: var(--down); }
tr.flash-up td { animation: flash-up 0.9s ease-out; }
tr.flash-down td { animation: flash-down 0.9s ease-out; }
@keyframes flash-up { from { background: color-mix(in srgb, var(--up) 24%, transparent); } }
@keyframes flash-down { from { background: color-mix(in srgb, var(--down) 22%, transparent); } }
canvas.spark { width: 76px; height: 26px; display: block; margin-left: auto; }
.quotes td.trend { padding-left: 0; padding-right: 12px; width: 88px; }
.breadth-wrap { padding: 6px 0 0; }
.breadth-wrap .section-title span:last-child { text-transform: none; letter-spacing: 0; font-weight: 500; }
.breadth {
  display: flex; justify-content: space-between; height: 8px; margin: 4px 16px 0;
  border-radius: 999px; background: var(--soft); border: 1px solid var(--line); overflow: hidden;
}
.breadth span { display: block; height: 100%; width: 0; transition: width 0.4s ease; }
.breadth .bar-up { background: var(--up); }
.breadth .bar-down { background: var(--down); }
.ticker-foot { padding: 10px 16px 14px; color: var(--muted); font-size: 12px; }

/* Sensors */
.sensors-body { display: flex; flex-direction: column; overflow: hidden; }
.readouts { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; padding: 12px 16px 0; }
.readout {
  background: var(--soft); border: 1px solid var(--line); border-radius: 10px; padding: 8px 12px;
}
.readout .label {
  font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em;
  display: flex; align-items: center; gap: 6px;
}
.swatch { width: 12px; height: 3px; border-radius: 2px; display: inline-block; }
.swatch.temp { background: var(--temp); }
.swatch.volt { background: var(--volt); }
.readout .value { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.3; }
.readout .value small { font-size: 13px; font-weight: 500; color: var(--muted); margin-left: 2px; }
.chart-wrap { padding: 10px 10px 0; flex: none; }
canvas.chart { display: block; width: 100%; height: 250px; }
.section-title {
  font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted);
  font-weight: 600; padding: 10px 16px 4px; display: flex; justify-content: space-between;
}
.hotplug-wrap { flex: 1; min-height: 0; overflow: auto; }
.hotplug { list-style: none; margin: 0; padding: 0 16px 12px; }
.hotplug li {
  display: flex; align-items: center; gap: 8px; padding: 6px 0; border-top: 1px solid var(--line);
  font-size: 13px;
}
.hotplug .dev { font-weight: 600; }
.hotplug .where { color: var(--muted); font-size: 12px; }
.hotplug time { margin-left: auto; color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.badge {
  font-size: 11px; font-weight: 600; padding: 1px 8px; border-radius: 999px; flex: none;
  color: var(--muted); background: var(--soft);
}
.badge.attached { color: var(--up); background: color-mix(in srgb, var(--up) 13%, transparent); }
.badge.detached { color: var(--down); background: color-mix(in srgb, var(--down) 12%, transparent); }

/* Footer */
.foot {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 20px;
  padding-bottom: 36px; color: var(--muted); font-size: 13px;
}
.foot h3 { font-size: 13px; color: var(--ink); margin: 0 0 6px; }
.foot p { margin: 0 0 8px; }
.foot pre {
  margin: 0; overflow: auto; background: var(--card); border: 1px solid var(--line);
  border-radius: 10px; padding: 10px 12px; font-size: 12px; color: var(--ink); line-height: 1.55;
}
.foot code { font-size: 12px; color: var(--ink); }
.foot dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 3px 12px; }
.foot dt { color: var(--ink); font-weight: 600; }
.foot dd { margin: 0; }
.foot .small { font-size: 12px; margin-top: 10px; }

@media (max-width: 1180px) {
  .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  #pane-sensors { grid-column: 1 / -1; }
}
@media (max-width: 760px) {
  .wrap { padding: 0 12px; }
  .grid { grid-template-columns: 1fr; gap: 14px; }
  .pane { height: auto; }
  #pane-chat .pane-body { flex: none; height: 360px; }
  .sensors-body { overflow: visible; }
  .hotplug-wrap { flex: none; max-height: 240px; }
  .feed .hint { display: none; }
  .chat-form { grid-template-columns: 1fr auto; }
  .chat-form .name { grid-column: 1 / -1; }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
`;
