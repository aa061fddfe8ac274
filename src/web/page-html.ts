/** The page's HTML and its Content-Security-Policy (no inline script, no CDN: everything from this origin). */
import { createHash } from 'node:crypto';
import { RESEARCH_NOTICE } from '../models/defaults.js';

const PAGE_STYLE = `
body{font:14px system-ui,sans-serif;margin:0;background:#111;color:#eee}
#notice{position:sticky;top:0;background:#7a1f1f;color:#fff;padding:6px 12px;font-weight:600;z-index:1}
main{display:flex;gap:16px;padding:12px;flex-wrap:wrap}
#left{flex:0 0 520px}#right{flex:1;min-width:320px;display:flex;flex-direction:column;gap:8px}
#drop{border:2px dashed #666;padding:16px;text-align:center;margin-bottom:8px}#drop.over{border-color:#4af}
canvas{background:#000;width:512px;height:auto;cursor:crosshair;display:block}
textarea,input[type=password]{width:100%;box-sizing:border-box}
.bar{display:flex;align-items:center;gap:6px;margin:2px 0}.bar span{width:160px}.bar i{display:block;height:14px;background:#4af}
.case{border-top:1px solid #333;padding:4px 0}.sentence a{color:#4af}
`;

/** CSP of the page: scripts, workers and connections from this origin only, its one inline style by hash; WASM allowed to compile, no eval. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  `style-src 'self' 'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`,
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The page. */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medvlm</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body>
<header id="notice" role="note">${esc(RESEARCH_NOTICE)}</header>
<main>
<section id="left">
  <div id="drop" tabindex="0">Drop a DICOM, NIfTI, PNG or JPEG here, or <label>open a file <input id="file" type="file"></label></div>
  <div id="viewer"><canvas id="canvas" width="512" height="512"></canvas>
    <div id="pixel">&nbsp;</div>
    <div id="controls">
      <label>Frame/slice <input id="frame" type="range" min="0" max="0" value="0"> <span id="frameNo">0</span></label>
      <label>Window <select id="preset"><option value="auto">auto</option><option value="file">file</option><option value="lung">lung</option><option value="mediastinum">mediastinum</option><option value="bone">bone</option><option value="brain">brain</option><option value="abdomen">abdomen</option><option value="liver">liver</option></select></label>
      <span id="wl"></span>
    </div>
  </div>
</section>
<section id="right">
  <fieldset><legend>Where the model runs</legend>
    <label><input type="radio" name="mode" value="server" checked> run on the server</label>
    <label><input type="radio" name="mode" value="browser"> run in this browser (no image byte leaves the page)</label>
  </fieldset>
  <label>API key (server mode, if required) <input id="apikey" type="password" autocomplete="off"></label>
  <label>Labels (comma-separated) <textarea id="labels" rows="3">chest x-ray, head CT, abdomen CT, brain MRI</textarea></label>
  <button id="classify" disabled>Classify</button>
  <div id="status" role="status"></div>
  <div id="chart"></div>
  <div id="indexTools" hidden>
    <button id="similar" disabled>Similar cases</button> <button id="draft" disabled>Draft report</button>
    <div id="cases"></div><div id="report"></div>
  </div>
</section>
</main>
<script type="module" src="/app/page.js"></script>
<style>${PAGE_STYLE}</style>
</body></html>`;
}
