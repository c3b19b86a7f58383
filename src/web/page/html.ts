/**
 * The page's HTML and CSS, served by the node (no CDN, no framework); its script is
 * app.ts, compiled with the rest and served as /app.js. Phone-width first: one column,
 * two from 60em.
 */

export function pageHtml (): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swarmdrop</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="data:,">
<script type="module" src="/app.js"></script>
</head>
<body>
<header>
  <h1>swarmdrop <span id="self-name"></span></h1>
  <p id="self-info" class="dim"></p>
  <p id="status" class="dim" role="status">connecting…</p>
</header>
<main>
  <section id="share-section">
    <h2>Share</h2>
    <label id="drop" for="picker" tabindex="0">Drop files here, or <u>pick files</u></label>
    <input id="picker" type="file" multiple hidden>
    <ul id="uploads" class="bars"></ul>
  </section>
  <section id="files-section">
    <h2>Files in the swarm <span id="files-count" class="dim"></span></h2>
    <ul id="files"></ul>
  </section>
  <section id="transfers-section">
    <h2>Transfers</h2>
    <ul id="transfers" class="bars"></ul>
    <svg id="chart" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-label="upload and download rate, last five minutes">
      <polyline id="chart-down" points=""></polyline>
      <polyline id="chart-up" points=""></polyline>
    </svg>
    <p class="dim legend"><span class="down">■</span> download <span id="rate-down"></span> · <span class="up">■</span> upload <span id="rate-up"></span></p>
  </section>
  <section id="peers-section">
    <h2>Peers <span id="peers-count" class="dim"></span></h2>
    <ul id="peers"></ul>
  </section>
</main>
</body>
</html>
`
}

export const PAGE_CSS = `
:root { --fg: #1b1f24; --dim: #667; --bg: #fafbfc; --card: #fff; --line: #dde1e6; --accent: #1f6feb; --ok: #1a7f37; --warn: #9a6700; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --dim: #8b949e; --bg: #0d1117; --card: #161b22; --line: #30363d; --accent: #4493f8; --ok: #3fb950; --warn: #d29922; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: .8em 1em; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1em; margin: 0 0 .5em; }
.dim { color: var(--dim); }
p { margin: .2em 0; overflow-wrap: anywhere; }
main { display: grid; gap: 1em; padding: 1em; grid-template-columns: 1fr; }
@media (min-width: 60em) { main { grid-template-columns: 1fr 1fr; } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8em; min-width: 0; }
ul { list-style: none; margin: 0; padding: 0; }
li { padding: .4em 0; border-top: 1px solid var(--line); overflow-wrap: anywhere; }
li:first-child { border-top: 0; }
#drop { display: block; border: 2px dashed var(--line); border-radius: 8px; padding: 1.5em 1em; text-align: center; cursor: pointer; }
#drop.over { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 10%, transparent); }
.name { font-weight: 600; }
.badge { display: inline-block; font-size: .8em; padding: 0 .4em; border-radius: 4px; border: 1px solid var(--line); margin-left: .3em; }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.warn { color: var(--warn); border-color: var(--warn); }
.actions { display: flex; flex-wrap: wrap; gap: .4em; margin-top: .3em; }
button { font: inherit; padding: .25em .7em; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
progress { width: 100%; height: .8em; }
.bars li { font-size: .9em; }
#chart { width: 100%; height: 60px; border: 1px solid var(--line); border-radius: 4px; }
#chart polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
#chart-down, .down { stroke: var(--accent); color: var(--accent); }
#chart-up, .up { stroke: var(--ok); color: var(--ok); }
code { font-size: .85em; }
`
